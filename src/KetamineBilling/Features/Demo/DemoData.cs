using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Collections;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Studies;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Demo;

/// <summary>Fixed ids of the demo world, so later areas (employers, payers) can join it.</summary>
/// <summary>
/// The demo patients' home addresses: made up, in the clinic's metro area, the same for a patient number on every seeding.
/// A few of the practice's patients never finished intake (no address on file): the worklist's missing-address item shows them.
/// </summary>
public static class DemoAddresses
{
    private static readonly string[] Streets = ["Maple Avenue", "Cedar Street", "Harbor Drive", "Juniper Lane", "Sunset Boulevard", "Aspen Court", "Willow Way", "Granite Road"];

    private static readonly (string City, string PostalCode)[] Cities =
        [("Denver", "80203"), ("Aurora", "80012"), ("Lakewood", "80226"), ("Englewood", "80110"), ("Littleton", "80120"), ("Arvada", "80002")];

    /// <summary>Every 16th practice patient (numbers 16, 32, ...) has no address on file.</summary>
    public static bool IntakeUnfinished(int patientNumber) => patientNumber > 7 && patientNumber % 16 == 0;

    public static PostalAddress? For(int patientNumber)
    {
        if (IntakeUnfinished(patientNumber)) return null;
        var (city, postalCode) = Cities[patientNumber % Cities.Length];
        return new PostalAddress($"{100 + patientNumber * 37 % 9800} {Streets[patientNumber % Streets.Length]}", patientNumber % 5 == 0 ? $"Apt {patientNumber % 40 + 1}" : null,
            city, "CO", postalCode);
    }
}

public static class DemoIds
{
    public static readonly Guid AcmeEmployer = new("0195a1a0-0000-7000-8000-00000000e001");
    public static readonly Guid ContosoEmployer = new("0195a1a0-0000-7000-8000-00000000e002");
    public static readonly Guid Grant = new("0195a1a0-0000-7000-8000-00000000a001");
    public static readonly Guid Study = new("0195a1a0-0000-7000-8000-00000000c001");

    public static readonly Guid BluePrairie = new("0195a1a0-0000-7000-8000-0000000000b1");
    public static readonly Guid LakeshoreMutual = new("0195a1a0-0000-7000-8000-0000000000b2");
    public static readonly Guid CopayAssistance = new("0195a1a0-0000-7000-8000-0000000000b3");
    public static readonly Guid CedarValley = new("0195a1a0-0000-7000-8000-0000000000b4");
    public static readonly Guid Northwind = new("0195a1a0-0000-7000-8000-0000000000b5");

    public static Guid Patient(int n) => new($"0195a1a0-0000-7000-8000-{n:D12}");

    public static Guid Session(int patient, int n) => new($"0195a1a0-0001-7000-8000-{patient:D6}{n:D6}");
}

/// <summary>Demo:Seed asked for outside Development: nothing is seeded, and the log says why.</summary>
public sealed class DemoSeedRefused(IHostEnvironment environment, ILogger<DemoSeedRefused> logger) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        logger.LogWarning("Demo:Seed is set but the environment is {Environment}: demo data and demo accounts are seeded in Development only; nothing was seeded",
            environment.EnvironmentName);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Seeds the demo world once: a second start finds it and adds nothing. It refuses (a logged warning, nothing
/// written, no demo account) when the database holds events the demo did not write (<see cref="Marker"/>). It writes the same events the API
/// writes, made by the same decisions.
/// </summary>
public sealed class DemoSeeder(
    IDocumentStore store, IGlobalStore global, Clinics clinics, UserAccounts accounts, ClinicCalendar calendar, TimeProvider clock,
    IConfiguration configuration, ILogger<DemoSeeder> logger) : IHostedService
{
    /// <summary>The demo's main clinic (a year of practice and the seven stories), in the shared database.</summary>
    public const string Lakeside = "lakeside";

    /// <summary>The demo's second, smaller clinic (the seven stories), in a database of its own (a clinic group's).</summary>
    public const string Northside = "northside";

    public const string DefaultPassword = "Demo-pass-2026";

    /// <summary>The header every demo event carries (mt_events.headers): what tells demo data from real data.</summary>
    public const string MarkerHeader = "kb-writer";

    /// <summary>The value of <see cref="MarkerHeader"/> on the demo's events.</summary>
    public const string Marker = "demo-seed";

    /// <summary>The user the demo's events name in their <c>user-id</c> header: no person, the seeder itself.</summary>
    public const string SystemUser = "system:demo-seed";

    /// <summary>List prices, with a lower self-pay cash price for the infusion and its drug.</summary>
    public static readonly IReadOnlyList<(string Code, string Description, decimal Price, decimal? CashPrice)> Prices =
    [
        ("96365", "IV infusion, initial hour", 450.00m, 400.00m),
        ("96366", "IV infusion, each additional hour", 125.00m, null),
        ("96374", "IV push, single or initial drug", 150.00m, null),
        ("96375", "IV push, each additional sequential drug", 75.00m, null),
        ("96372", "Therapeutic injection, IM or SC", 95.00m, null),
        ("J3490", "Unclassified drug (ketamine HCl)", 60.00m, 50.00m),
        ("G2082", "Esketamine nasal self-administration, up to 56 mg, with 2 h observation", 850.00m, null),
        ("G2083", "Esketamine nasal self-administration, over 56 mg, with 2 h observation", 1250.00m, null),
        ("S0013", "Esketamine nasal spray, 1 mg", 14.00m, null),
        ("J0013", "Injection/nasal esketamine, 1 mg", 14.00m, null),
        ("99204", "New patient visit, moderate complexity", 325.00m, null),
        ("99205", "New patient visit, high complexity", 425.00m, null),
        ("99213", "Established patient visit, low complexity", 150.00m, null),
        ("99214", "Established patient visit, moderate complexity", 225.00m, null),
        ("99215", "Established patient visit, high complexity", 300.00m, null),
        ("99415", "Prolonged clinical staff service, first hour", 180.00m, null),
        ("99416", "Prolonged clinical staff service, each additional 30 minutes", 90.00m, null),
        ("90833", "Psychotherapy add-on, 30 minutes", 110.00m, null),
        ("90836", "Psychotherapy add-on, 45 minutes", 160.00m, null),
        // Not care given: the clinic's missed-appointment fee (ChargeNoShowFeeEndpoint.Code), charged as a no-show, never on a session.
        ("NOSHW", "Missed appointment (no-show) fee", 75.00m, null)
    ];

    /// <summary>The agency the demo clinics place accounts with after the final notice.</summary>
    public static readonly CollectionAgency Agency = new()
    {
        Id = new Guid("0195a1a0-0000-7000-8000-0000000000c7"), Name = "Heartland Recovery Associates", CommissionPercent = 30m, Phone = "312-555-0177"
    };

    public static readonly IReadOnlyList<Payer> Payers =
    [
        new() { Id = DemoIds.BluePrairie, Name = "Blue Prairie Health", PayerId = "BPH01", Kind = PayerKind.Commercial, NetworkStatus = NetworkStatus.InNetwork },
        new() { Id = DemoIds.LakeshoreMutual, Name = "Lakeshore Mutual", PayerId = "LSM22", Kind = PayerKind.Commercial, NetworkStatus = NetworkStatus.OutOfNetwork },
        new() { Id = DemoIds.CopayAssistance, Name = "Spravato withMe copay assistance", PayerId = "SPRCA1", Kind = PayerKind.CopayAssistance, NetworkStatus = NetworkStatus.InNetwork },
        new() { Id = DemoIds.CedarValley, Name = "Cedar Valley Health Plan", PayerId = "CVH30", Kind = PayerKind.Commercial, NetworkStatus = NetworkStatus.InNetwork },
        new() { Id = DemoIds.Northwind, Name = "Northwind Medicare Advantage", PayerId = "NWM77", Kind = PayerKind.Medicare, NetworkStatus = NetworkStatus.InNetwork }
    ];

    /// <summary>The seed of the demo practice's year (<see cref="PracticePlan"/>): the same seed, the same year.</summary>
    public const int PracticeSeed = 2026;

    /// <summary>The location of every demo session.</summary>
    public const string MainClinic = "main-clinic";

    public static readonly IReadOnlyList<Provider> Providers =
    [
        new() { Id = "dr-patel", Name = "Anika Patel", Npi = "1234567893", Credentials = "MD" },
        new() { Id = "np-garcia", Name = "Luis Garcia", Npi = "1987654328", Credentials = "PMHNP-BC" }
    ];

    private static readonly (string First, string Last, DateOnly Born, string Diagnosis)[] Patients =
    [
        ("Avery", "Lindqvist", new DateOnly(1984, 3, 12), "F33.2"),
        ("Jordan", "Okafor", new DateOnly(1991, 11, 2), "F32.2"),
        ("Morgan", "Castellanos", new DateOnly(1977, 6, 25), "F43.10"),
        ("Riley", "Nakamura", new DateOnly(1969, 1, 30), "F33.1"),
        ("Casey", "Brennan", new DateOnly(1988, 9, 14), "F41.1"),
        ("Dana", "Whitlock", new DateOnly(1995, 4, 8), "F33.2"),
        ("Emery", "Santos", new DateOnly(1982, 12, 1), "F32.2")
    ];

    /// <summary>What happened on each demo account, day by day: one typical situation a billing administrator meets.</summary>
    private static readonly (int RegisteredDay, Action<DemoAccount, DemoThirdParties> Story)[] Stories =
    [
        // Self-pay series of six at the cash price, estimated up front; paid by card at each visit, once by FSA.
        (-46, (a, _) =>
        {
            var series = a.Series(-45, "Initial series: six IV ketamine infusions", 6);
            a.Estimate(-45, series, ("96365", 6), ("J3490", 6));
            a.Letter(-45, "Treatment-resistant major depressive disorder (F33.2)", "IV ketamine infusion series", "6 infusions over 3 weeks", 365);
            for (var n = 0; n < 6; n++)
            {
                a.Session(-38 + n * 4, series: series);
                if (n < 4) a.Payment(-38 + n * 4, "card", 450.00m, "VISA ending 4242");
                else if (n == 4) a.Payment(-38 + n * 4, "fsa", 450.00m, "FSA card ending 1881");
            }

            a.Visit(0, 1, "11:30", "Booster infusion");
        }),
        // Insured: covered by Blue Prairie Health, the first three sessions claimed, the rest waiting for a claim.
        (-55, (a, _) =>
        {
            a.Coverage(-55, DemoIds.BluePrairie, "BPH448812907");
            var sessions = new List<Guid>();
            for (var n = 0; n < 6; n++) sessions.Add(a.Session(-50 + n * 4, funding: "insurance"));
            a.Claim(-29, DemoIds.BluePrairie, sessions.Take(3).ToList());
            // A maintenance infusion tomorrow: its eligibility is still to check (the Visits page, the worklist).
            a.Visit(0, 1, "09:00", "Maintenance ketamine infusion");
        }),
        // Self-pay on a sliding scale with a payment plan: the first instalment paid, the second missed.
        (-82, (a, _) =>
        {
            var series = a.Series(-80, "Initial series: six IV ketamine infusions", 6);
            for (var n = 0; n < 6; n++) a.Session(-75 + n * 4, series: series);
            a.Discount(-54, series, "fpg-201-300");
            a.Plan(-50, (-45, 600.00m), (-15, 600.00m), (15, 690.00m));
            a.Payment(-44, "card", 600.00m, "MC ending 5100");
        }),
        // Acme Logistics pays 80% of the infusion directly: three months of sessions, invoices, one paid, one in part.
        (-86, (a, t) =>
        {
            a.Enroll(-85, t.Acme, "ACM-4471");
            a.EmployerSession(-80, t.Acme);
            a.EmployerSession(-66, t.Acme);
            a.EmployerSession(-52, t.Acme);
            a.EmployerInvoice(-45, t.Acme);
            a.EmployerSession(-38, t.Acme);
            a.EmployerPayment(-30, t.Acme, 10_000m, "ACH-ACME-0901");
            a.EmployerSession(-24, t.Acme);
            a.EmployerInvoice(-15, t.Acme);
            a.EmployerSession(-10, t.Acme);
            a.EmployerPayment(-5, t.Acme, 300m, "ACH-ACME-1015");
        }),
        // A duplicate entry voided after it was paid: the money returned to credit, most of it refunded, the
        // rest used on a later visit, and the last few dollars written off.
        (-21, (a, _) =>
        {
            a.Session(-20);
            var duplicate = a.Session(-20);
            a.Payment(-19, "check", 900.00m, "Check 1042");
            a.Void(-18, duplicate, "Entered twice");
            a.Refund(-17, 440.00m, "check", "Overpayment after a duplicate charge was voided");
            a.Session(-6, lines: [("99213", 1)]);
            a.ApplyCredit(-6);
            a.Payment(-5, "card", 135.00m, "AMEX ending 3005");
            a.WriteOff(-4, "small-balance", "Remaining balance under the small-balance threshold");
        }),
        // A foundation grant with fee sharing: the clinic halves its fee, the fund pays half the rest, until the award runs out.
        (-61, (a, t) =>
        {
            for (var n = 0; n < 6; n++) a.GrantSession(-60 + n * 7, t.Grant);
        }),
        // A clinical-trial subject: the sponsor owes its contracted rate, the patient nothing.
        (-41, (a, t) =>
        {
            for (var n = 0; n < 4; n++) a.StudySession(-40 + n * 8, t.Study, "MN-204-0117");
        })
    ];

    /// <summary>The seven story accounts as the seeder builds them (in memory), feeding the given employers, grant and study.</summary>
    public static List<DemoAccount> StoryAccounts(FeeSchedule schedule, ClinicCalendar calendar, DemoThirdParties thirdParties) =>
        Enumerable.Range(0, Patients.Length).Select(i =>
        {
            var story = new DemoAccount(DemoIds.Patient(i + 1), Patients[i], schedule, calendar, Stories[i].RegisteredDay, DemoAddresses.For(i + 1));
            Stories[i].Story(story, thirdParties);
            return story;
        }).ToList();

    public async Task StartAsync(CancellationToken ct)
    {
        if (!await OnboardDemoClinicsAsync(ct)) return;
        await SeedAsync(Lakeside, stories: true, practice: true, ct);
        await SeedAsync(Northside, stories: true, practice: false, ct);
    }

    /// <summary>The demo's two clinics, unless the platform holds others (then nothing, and the log says why).</summary>
    private async Task<bool> OnboardDemoClinicsAsync(CancellationToken ct)
    {
        // Two nodes starting together: the second waits for the first, then finds the clinics there.
        await using var held = await StartupLock.TakeAsync(global, ct);
        // Demo data goes only into a platform of its own: one with clinics the demo did not make gets none.
        if ((await clinics.ListAsync(ct)).Count(c => c.Id is not (Lakeside or Northside)) is > 0 and var others)
        {
            logger.LogWarning(
                "Demo data refused: the platform holds {Count} clinics the demo did not make; demo data and demo accounts go only into a database of their own",
                others);
            return false;
        }

        var now = clock.GetUtcNow();
        var second = clinics.Databases.Pool.ContainsKey(ClinicDatabases.Group) ? ClinicDatabases.Group : clinics.Databases.DefaultDatabase;
        await clinics.AddAsync(Lakeside, "Lakeside Ketamine Clinic", clinics.Databases.DefaultDatabase, SystemUser, now, ct);
        await clinics.AddAsync(Northside, "Northside Infusion Center", second, SystemUser, now, ct);
        return true;
    }

    /// <param name="stories">The seven accounts of typical situations, with the employers, the grant and the study they feed.</param>
    /// <param name="practice">A year of an insured practice (<see cref="PracticePlan"/>): some 80 patients, three payers, their
    /// claims, 835s and the bank deposits of every receipt.</param>
    public async Task SeedAsync(string clinic, bool stories, bool practice, CancellationToken ct)
    {
        // Two nodes starting together: the second waits for the first, then finds the clinic's demo written and adds nothing.
        await using var held = await StartupLock.TakeAsync(global, ct);
        if (await ForeignEventsAsync(clinic, ct) is > 0 and var foreign)
        {
            logger.LogWarning(
                "Demo data refused: the database holds {Count} events the demo did not write; demo data and demo accounts go only into a database of their own",
                foreign);
            return;
        }

        var password = configuration["Demo:Password"] is { Length: > 0 } configured ? configured : DefaultPassword;
        var now = clock.GetUtcNow();
        // The billing company's staff work for both clinics; the employers' HR for the main clinic only (Employer accounts work for one).
        await accounts.EnsureAsync("billing@demo.test", "Billing Admin (demo)", password, [Roles.BillingAdmin], null, [clinic], now, ct);
        await accounts.EnsureAsync("finance@demo.test", "Finance Analyst (demo)", password, [Roles.Finance], null, [clinic], now, ct);
        await accounts.EnsureAsync("admin@demo.test", "Administrator (demo)", password, [Roles.Administrator], null, [clinic], now, ct);
        if (clinic != Northside)
        {
            await accounts.EnsureAsync("employer@demo.test", "Acme Logistics HR (demo)", password, [Roles.Employer], DemoIds.AcmeEmployer, [clinic], now, ct);
            await accounts.EnsureAsync("hr@contoso.demo.test", "Contoso Foods HR (demo)", password, [Roles.Employer], DemoIds.ContosoEmployer, [clinic], now, ct);
        }

        await using var session = store.LightweightSession(clinic);
        var today = calendar.Today();
        // Prices in force from before the practice's first month.
        var priceFrom = new DateOnly(today.Year, today.Month, 1).AddMonths(-13);
        var added = 0;
        // Priced as the API prices (PUT /api/fee-schedule/{code}): the same decision, code after code.
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        var prices = new List<object>();
        foreach (var p in Prices)
        {
            var priced = SetFeePriceEndpoint.Decide(schedule, p.Code, new SetFeePrice(p.Description, p.Price, priceFrom, p.CashPrice), today, now)
                .EventsFor(FeeSchedule.StreamId);
            foreach (var price in priced.Cast<FeePriceSet>()) projection.Apply(price, schedule);
            prices.AddRange(priced);
        }

        if (await session.Events.FetchStreamStateAsync(FeeSchedule.StreamId, ct) is null)
        {
            session.Events.StartStream<FeeSchedule>(FeeSchedule.StreamId, prices.ToArray());
            added++;
        }

        // The location every demo session names ("main-clinic"), added as the API adds it (PUT /api/locations/{id}).
        if (await session.Events.FetchStreamStateAsync(ClinicLocations.StreamId, ct) is null)
        {
            session.Events.StartStream<ClinicLocations>(ClinicLocations.StreamId,
                SetLocationEndpoint.Decide(null, MainClinic, new SetLocation("Main clinic", new PostalAddress("1200 Lakeshore Drive", "Suite 300", "Chicago", "IL", "606112013"), "11"), now)
                    .EventsFor(ClinicLocations.StreamId).ToArray());
            added++;
        }

        foreach (var provider in Providers)
        {
            session.Store(provider);
        }

        foreach (var payer in Payers)
        {
            if (await session.LoadAsync<Payer>(payer.Id, ct) is null) session.Store(payer);
        }

        if (await session.LoadAsync<CollectionAgency>(Agency.Id, ct) is null)
            session.Store(new CollectionAgency { Id = Agency.Id, Name = Agency.Name, CommissionPercent = Agency.CommissionPercent, Phone = Agency.Phone, CreatedAt = now });

        var thirdParties = new DemoThirdParties(today.AddDays(-120).ToDateTime(new TimeOnly(9, 0)) is var start ? new DateTimeOffset(start, calendar.Zone.GetUtcOffset(start)).ToUniversalTime() : now, today);
        // The other areas' demo streams go with the patients whose stories feed them: written only in the run that writes those.
        var writeThirdParties = stories && await session.Events.FetchStreamStateAsync(DemoIds.AcmeEmployer, ct) is null
                                && await session.Events.FetchStreamStateAsync(DemoIds.Patient(4), ct) is null;
        var written = new List<DemoAccount>();
        for (var i = 0; i < (stories ? Patients.Length : 0); i++)
        {
            var id = DemoIds.Patient(i + 1);
            if (await session.Events.FetchStreamStateAsync(id, ct) is not null)
            {
                continue;
            }

            var story = new DemoAccount(id, Patients[i], schedule, calendar, Stories[i].RegisteredDay, DemoAddresses.For(i + 1));
            Stories[i].Story(story, thirdParties);
            Write(session, story);
            written.Add(story);
            added++;
        }

        var remittances = new List<Remittance>();
        if (practice && await session.Events.FetchStreamStateAsync(DemoIds.Patient(PracticePlan.FirstPatient), ct) is null)
        {
            var year = PracticeStreams.Build(PracticePlan.For(today, PracticeSeed), schedule, calendar);
            foreach (var account in year.Accounts)
            {
                Write(session, account);
                written.Add(account);
                added++;
            }

            foreach (var received in year.Remittances)
            {
                session.Events.StartStream<Remittance>(received.RemittanceId, received).Events[0].Timestamp = received.ReceivedAt;
                remittances.Add(Remittance.Create(received));
                added++;
            }

            // The bank deposits of every receipt written in this run (a card batch holds every card payment of its day).
            var receipts = Receipts.From(remittances, written.Select(a => a.Account),
                writeThirdParties ? [thirdParties.Acme.State, thirdParties.Contoso.State] : [],
                writeThirdParties ? [thirdParties.Grant.State] : [], writeThirdParties ? [thirdParties.Study.State] : []);
            foreach (var (depositId, events, at) in DemoDeposits.For(receipts, today, calendar))
            {
                var deposit = session.Events.StartStream<BankDeposit>(depositId, events);
                foreach (var e in deposit.Events) e.Timestamp = at;
                added++;
            }
        }

        if (writeThirdParties)
        {
            foreach (var (streamId, events, timestamps) in new[]
                     {
                         (thirdParties.Acme.Id, thirdParties.Acme.Events, thirdParties.Acme.Timestamps),
                         (thirdParties.Contoso.Id, thirdParties.Contoso.Events, thirdParties.Contoso.Timestamps),
                         (thirdParties.Grant.Id, thirdParties.Grant.Events, thirdParties.Grant.Timestamps),
                         (thirdParties.Study.Id, thirdParties.Study.Events, thirdParties.Study.Timestamps)
                     })
            {
                var action = streamId == thirdParties.Grant.Id ? session.Events.StartStream<Grant>(streamId, events.ToArray())
                    : streamId == thirdParties.Study.Id ? session.Events.StartStream<Study>(streamId, events.ToArray())
                    : session.Events.StartStream<EmployerAgreement>(streamId, events.ToArray());
                for (var n = 0; n < action.Events.Count; n++) action.Events[n].Timestamp = timestamps[n];
                added++;
            }
        }

        if (added > 0)
        {
            // Who and why (docs/events.md): the demo writes as a system user of its own, the whole run under one correlation id.
            session.LastModifiedBy = SystemUser;
            session.SetHeader(AuditMiddleware.UserIdHeader, SystemUser);
            session.SetHeader(MarkerHeader, Marker);
            session.CorrelationId = $"demo-seed-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}";
            session.CausationId = null;
            await session.SaveChangesAsync(ct);
        }

        logger.LogInformation("Demo data: {Added} streams added (0 means it was already there)", added);
    }

    /// <summary>Events not written by the seeder (counted up to 1,000: any is enough to refuse).</summary>
    private async Task<long> ForeignEventsAsync(string clinic, CancellationToken ct)
    {
        await using var session = store.QuerySession(clinic);
        await using var command = new Npgsql.NpgsqlCommand(
            $"select count(*) from (select 1 from {store.Options.Events.DatabaseSchemaName}.mt_events " +
            "where tenant_id = @clinic and (headers is null or headers ->> @header is distinct from @marker) limit 1000) as foreign_events", session.Connection);
        command.Parameters.AddWithValue("clinic", clinic);
        command.Parameters.AddWithValue("header", MarkerHeader);
        command.Parameters.AddWithValue("marker", Marker);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>An account's stream and its claims' streams, each event stamped with its story's own day, so "as of" views have a history.</summary>
    private static void Write(IDocumentSession session, DemoAccount account)
    {
        var stream = session.Events.StartStream<PatientAccount>(account.Account.Id, account.Events.ToArray());
        for (var n = 0; n < stream.Events.Count; n++) stream.Events[n].Timestamp = account.Timestamps[n];
        foreach (var claim in account.Claims)
        {
            var claimStream = session.Events.StartStream<Claim>(claim.Id, claim.Events.ToArray());
            for (var n = 0; n < claimStream.Events.Count; n++) claimStream.Events[n].Timestamp = claim.Timestamps[n];
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
