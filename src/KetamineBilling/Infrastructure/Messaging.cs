using JasperFx.CodeGeneration;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;

namespace KetamineBilling.Infrastructure;

public static class Messaging
{
    public static void AddMessaging(this WebApplicationBuilder builder)
    {
        // Dynamic code generation in Development and tests (never stale); pre-generated code, checked for
        // staleness by ops/test.sh, everywhere else (faster start, no Roslyn at run time).
        var mode = builder.Configuration["Codegen:TypeLoadMode"]
                   ?? (builder.Environment.IsProduction() ? nameof(TypeLoadMode.Static) : nameof(TypeLoadMode.Dynamic));

        builder.UseWolverine(opts =>
        {
            // The test runner becomes the entry assembly; without this Wolverine finds no endpoints there.
            opts.ApplicationAssembly = typeof(Program).Assembly;
            opts.CodeGeneration.TypeLoadMode = Enum.Parse<TypeLoadMode>(mode);
            if (builder.Configuration["Codegen:OutputPath"] is { Length: > 0 } output)
            {
                opts.CodeGeneration.GeneratedCodeOutputPath = output;
            }

            Cluster.Configure(opts, Cluster.Options(builder.Configuration));
            opts.Policies.AutoApplyTransactions();
            // Messages that move money are persisted with the transaction that sends them (outbox) and
            // survive a crash: every local queue is durable.
            opts.Policies.UseDurableLocalQueues();
            opts.EnableRelayOfUserName = true;
            // Follow-up events carry the user, correlation id and causing event of the request that cascaded them (docs/events.md).
            opts.Policies.Add<FollowUpAuditPolicy>();

            // Two writers on one stream (a cascade and the client's next command on the same account): the loser is read
            // and decided again against the new version, at once a few times, then later from the durable store; jittered so
            // it falls out of step with a client sending commands back to back. Three tries within 600 ms left 19 of 200
            // authorization counts in the dead-letter table when a client filed claims right after the sessions.
            opts.Policies.OnException(DecideAgainMiddleware.LostRace, "a change saved first on the same stream")
                .RetryWithCooldown(
                    TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100),
                    TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400))
                .Then.ScheduleRetry(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30))
                .WithFullJitter();
        });
        builder.Services.AddWolverineHttp();
    }
}
