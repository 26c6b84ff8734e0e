using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Demo;

/// <summary>Fixed ids of the demo world, so later areas (employers, payers) can join it.</summary>
public static class DemoIds
{
    public static readonly Guid NorthwindEmployer = new("0195a1a0-0000-7000-8000-00000000e001");
    public static readonly Guid ContosoEmployer = new("0195a1a0-0000-7000-8000-00000000e002");

    public static Guid Patient(int n) => new($"0195a1a0-0000-7000-8000-{n:D12}");

    public static Guid Session(int patient, int n) => new($"0195a1a0-0001-7000-8000-{patient:D6}{n:D6}");
}

public static class DemoDataModule
{
    public static void AddDemoData(this WebApplicationBuilder builder)
    {
        // Demo accounts and data exist in Development only, and only when asked for (ops/run.sh asks).
        if (builder.Environment.IsDevelopment() && builder.Configuration.GetValue("Demo:Seed", false))
        {
            builder.Services.AddHostedService<DemoSeeder>();
        }
    }
}

/// <summary>
/// Seeds the demo world once: a second start finds it and adds nothing. It writes the same events the API
/// writes, made by the same decisions.
/// </summary>
public sealed class DemoSeeder(
    IDocumentStore store, UserAccounts accounts, ClinicCalendar calendar, TimeProvider clock, IConfiguration configuration,
    ILogger<DemoSeeder> logger) : IHostedService
{
    public const string DefaultPassword = "Demo-pass-1";

    public static readonly IReadOnlyList<(string Code, string Description, decimal Price)> Prices =
    [
        ("96365", "IV infusion, initial hour", 450.00m),
        ("96366", "IV infusion, each additional hour", 125.00m),
        ("96374", "IV push, single or initial drug", 150.00m),
        ("96375", "IV push, each additional sequential drug", 75.00m),
        ("96372", "Therapeutic injection, IM or SC", 95.00m),
        ("J3490", "Unclassified drug (ketamine HCl)", 60.00m),
        ("G2082", "Esketamine nasal self-administration, up to 56 mg, with 2 h observation", 850.00m),
        ("G2083", "Esketamine nasal self-administration, over 56 mg, with 2 h observation", 1250.00m),
        ("S0013", "Esketamine nasal spray, 1 mg", 14.00m),
        ("J0013", "Injection/nasal esketamine, 1 mg", 14.00m),
        ("99204", "New patient visit, moderate complexity", 325.00m),
        ("99205", "New patient visit, high complexity", 425.00m),
        ("99213", "Established patient visit, low complexity", 150.00m),
        ("99214", "Established patient visit, moderate complexity", 225.00m),
        ("99215", "Established patient visit, high complexity", 300.00m),
        ("90833", "Psychotherapy add-on, 30 minutes", 110.00m),
        ("90836", "Psychotherapy add-on, 45 minutes", 160.00m)
    ];

    private static readonly (string First, string Last, DateOnly Born, string Diagnosis)[] Patients =
    [
        ("Avery", "Lindqvist", new DateOnly(1984, 3, 12), "F33.2"),
        ("Jordan", "Okafor", new DateOnly(1991, 11, 2), "F32.2"),
        ("Morgan", "Castellanos", new DateOnly(1977, 6, 25), "F43.10"),
        ("Riley", "Nakamura", new DateOnly(1969, 1, 30), "F33.1"),
        ("Casey", "Brennan", new DateOnly(1988, 9, 14), "F41.1")
    ];

    public async Task StartAsync(CancellationToken ct)
    {
        var password = configuration["Demo:Password"] is { Length: > 0 } configured ? configured : DefaultPassword;
        var now = clock.GetUtcNow();
        await accounts.EnsureAsync("billing@demo.test", "Billing Admin (demo)", password, [Roles.BillingAdmin], null, now, ct);
        await accounts.EnsureAsync("finance@demo.test", "Finance Analyst (demo)", password, [Roles.Finance], null, now, ct);
        await accounts.EnsureAsync("hr@northwind.demo.test", "Northwind Logistics HR (demo)", password, [Roles.Employer], DemoIds.NorthwindEmployer, now, ct);
        await accounts.EnsureAsync("hr@contoso.demo.test", "Contoso Foods HR (demo)", password, [Roles.Employer], DemoIds.ContosoEmployer, now, ct);

        await using var session = store.LightweightSession();
        var today = calendar.Today();
        var priceFrom = new DateOnly(today.Year - 1, 1, 1);
        var added = 0;
        if (await session.Events.FetchStreamStateAsync(FeeSchedule.StreamId, ct) is null)
        {
            session.Events.StartStream<FeeSchedule>(FeeSchedule.StreamId,
                Prices.Select(p => (object)new FeePriceSet(FeeSchedule.StreamId, p.Code, p.Description, p.Price, priceFrom, now)).ToArray());
            added++;
        }

        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        foreach (var p in Prices)
        {
            projection.Apply(new FeePriceSet(schedule.Id, p.Code, p.Description, p.Price, priceFrom, now), schedule);
        }

        for (var i = 0; i < Patients.Length; i++)
        {
            var id = DemoIds.Patient(i + 1);
            if (await session.Events.FetchStreamStateAsync(id, ct) is not null)
            {
                continue;
            }

            var (first, last, born, diagnosis) = Patients[i];
            var registered = RegisterPatientEndpoint.Decide(new RegisterPatient(first, last, born, null, null), id, now);
            var events = new List<object> { registered };
            var patient = Patient.Create(registered);
            // A first series of six infusions over about three weeks, ending some weeks ago per patient.
            var start = today.AddDays(-20 - 14 * i);
            for (var n = 0; n < 6; n++)
            {
                var command = new DeliverSession(
                    DemoIds.Session(i + 1, n + 1), start.AddDays(n * 4), 45, "main-clinic",
                    [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)],
                    [diagnosis]);
                if (DeliverSessionEndpoint.Decide(command, patient, schedule, null, now) is DeliverSessionEndpoint.Outcome.Charged charged)
                {
                    events.Add(charged.Event);
                    patient.Apply(charged.Event);
                }
            }

            session.Events.StartStream<Patient>(id, events.ToArray());
            added++;
        }

        if (added > 0)
        {
            session.LastModifiedBy = "demo-seed";
            await session.SaveChangesAsync(ct);
        }

        logger.LogInformation("Demo data: {Added} streams added (0 means it was already there)", added);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
