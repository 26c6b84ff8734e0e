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

            opts.Policies.AutoApplyTransactions();
            // Messages that move money are persisted with the transaction that sends them (outbox) and
            // survive a crash: every local queue is durable.
            opts.Policies.UseDurableLocalQueues();
            opts.EnableRelayOfUserName = true;

            // Two writers on one stream: the loser is retried against the new version, then gives up.
            opts.Policies.OnException<JasperFx.ConcurrencyException>()
                .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(400));
        });
        builder.Services.AddWolverineHttp();
    }
}
