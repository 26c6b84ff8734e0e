using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Demo;

/// <summary>What a payer answered for one line of a claim: allowed, paid, the patient's share, or a denial with its CARC.</summary>
public sealed record PracticeLine(string Code, decimal Charge, decimal Allowed, decimal Paid, decimal PatientShare, string? DenialReason)
{
    public bool Denied => DenialReason is not null;

    /// <summary>The contractual write-off (CO-45) of a processed line; a denied line stays open, so it has none.</summary>
    public decimal Contractual => Denied ? 0m : Charge - Allowed;
}

/// <summary>One infusion visit (96365 with its ketamine J3490) and what became of it.</summary>
/// <param name="PayerId">The patient's insurer; null for a self-pay visit at the cash price.</param>
/// <param name="FiledOn">When its claim (one claim per visit) was filed; null while it is on no claim.</param>
/// <param name="AnsweredOn">The payment date of the 835 that paid or denied it; null while unanswered.</param>
/// <param name="Answer">The payer's answer per line, once answered.</param>
/// <param name="PatientPaidOn">When the patient paid their share (self-pay: at the visit); null if they have not.</param>
public sealed record PracticeVisit(int Patient, Guid? PayerId, DateOnly DeliveredOn)
{
    public DateOnly? FiledOn { get; init; }
    public DateOnly? AnsweredOn { get; init; }
    public IReadOnlyList<PracticeLine> Answer { get; init; } = [];
    public DateOnly? PatientPaidOn { get; init; }
    public decimal PatientPaid { get; init; }
    public string PaymentMethod { get; init; } = "card";

    public bool Denied => Answer.Count > 0 && Answer.All(l => l.Denied);
}

public sealed record PracticePatient(int Number, string First, string Last, DateOnly Born, string Diagnosis, Guid? PayerId, string? MemberId, DateOnly RegisteredOn);

/// <summary>
/// A year of a busy infusion practice as plain facts: who came when, which payer, what each claim was answered,
/// what patients paid. The demo seeder turns it into events through the same decisions the API makes; the
/// analytics tests compute every expected figure from these facts alone.
/// </summary>
public sealed record PracticePlan(DateOnly Today, DateOnly FirstMonth, IReadOnlyList<PracticePatient> Patients, IReadOnlyList<PracticeVisit> Visits)
{
    /// <summary>List prices of the two lines of every visit (the demo fee schedule), and the self-pay cash prices.</summary>
    public const decimal Infusion = 450.00m, Drug = 60.00m, InfusionCash = 400.00m, DrugCash = 50.00m;

    public const int FirstPatient = 101;

    /// <summary>The three in-network commercial payers of the practice and how each behaves.</summary>
    public static readonly IReadOnlyList<PracticePayer> Payers =
    [
        new(DemoIds.BluePrairie, Share: 0.40, PaysOn: DayOfWeek.Tuesday, MinDays: 12, MaxDays: 35, Allowed: 320.00m, DrugAllowed: 45.00m,
            Coinsurance: 0.20m, Copay: 0m),
        new(DemoIds.CedarValley, Share: 0.35, PaysOn: DayOfWeek.Thursday, MinDays: 18, MaxDays: 60, Allowed: 295.00m, DrugAllowed: 38.00m,
            Coinsurance: 0.20m, Copay: 0m),
        new(DemoIds.Northwind, Share: 0.25, PaysOn: DayOfWeek.Friday, MinDays: 9, MaxDays: 28, Allowed: 345.00m, DrugAllowed: 52.00m,
            Coinsurance: 0m, Copay: 40.00m)
    ];

    private static readonly string[] FirstNames =
    [
        "Ada", "Bram", "Celia", "Dario", "Elif", "Farah", "Gideon", "Hana", "Ilya", "Joss", "Kiran", "Lena", "Mateo", "Nadia", "Oren", "Priya",
        "Quinn", "Rosa", "Soren", "Tessa", "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zara"
    ];

    private static readonly string[] LastNames =
    [
        "Abbott", "Bauer", "Chen", "Delgado", "Eriksen", "Fontaine", "Gallo", "Haddad", "Ivers", "Jovanovic", "Kowalski", "Laurent", "Mbeki", "Novak",
        "Ortiz", "Pereira", "Quist", "Rahman", "Sato", "Thornton", "Underwood", "Valdez", "Wexler", "Yilmaz"
    ];

    private static readonly string[] Diagnoses = ["F33.2", "F32.2", "F33.1", "F43.10", "F41.1"];

    /// <summary>
    /// The plan for the year before <paramref name="today"/>: the twelve full months before this one and this month so far.
    /// The same seed and day give the same plan.
    /// </summary>
    public static PracticePlan For(DateOnly today, int seed = 2026, int insuredPatients = 60, int selfPayPatients = 20)
    {
        var random = new Random(seed);
        var firstMonth = new DateOnly(today.Year, today.Month, 1).AddMonths(-12);
        var lastStart = today.AddDays(-21);
        var patients = new List<PracticePatient>();
        var visits = new List<PracticeVisit>();
        for (var i = 0; i < insuredPatients + selfPayPatients; i++)
        {
            var number = FirstPatient + i;
            var insured = i < insuredPatients;
            // The first patient of each payer starts in the first week and keeps coming monthly, so every payer has
            // claims in every month; the others start at random through the year.
            var anchor = insured && i < Payers.Count;
            var payer = !insured ? null : anchor ? Payers[i] : Pick(random);
            var start = anchor ? firstMonth.AddDays(random.Next(0, 5)) : firstMonth.AddDays(random.Next(0, lastStart.DayNumber - firstMonth.DayNumber));
            var patient = new PracticePatient(number, FirstNames[random.Next(FirstNames.Length)], LastNames[random.Next(LastNames.Length)],
                new DateOnly(1950 + random.Next(0, 50), 1 + random.Next(0, 12), 1 + random.Next(0, 28)), Diagnoses[random.Next(Diagnoses.Length)],
                payer?.Id, payer is null ? null : $"{payer.Code}{random.Next(10_000_000, 99_999_999)}", start.AddDays(-random.Next(2, 10)));
            patients.Add(patient);

            // The initial series: six infusions over about three weeks; then maintenance every four to six weeks
            // (monthly for the anchors), unless the patient stops after the series.
            var days = new List<DateOnly>();
            foreach (var offset in new[] { 0, 3, 7, 10, 14, 17 }) days.Add(start.AddDays(offset));
            var continues = anchor || random.NextDouble() < 0.8;
            for (var next = days[^1].AddDays(anchor ? random.Next(21, 29) : random.Next(28, 43)); continues && next < today; next = next.AddDays(anchor ? random.Next(21, 29) : random.Next(28, 43)))
            {
                days.Add(next);
            }

            foreach (var day in days.Where(d => d < today))
            {
                visits.Add(payer is null ? SelfPay(random, number, day, today) : Insured(random, number, payer, day, today, firstMonth));
            }
        }

        return new PracticePlan(today, firstMonth, patients, visits);
    }

    private static PracticePayer Pick(Random random)
    {
        var roll = random.NextDouble();
        foreach (var payer in Payers)
        {
            if (roll < payer.Share) return payer;
            roll -= payer.Share;
        }

        return Payers[^1];
    }

    private static PracticeVisit SelfPay(Random random, int patient, DateOnly day, DateOnly today)
    {
        var visit = new PracticeVisit(patient, null, day);
        // Most pay the cash price at the visit; one in ten leaves it owing.
        if (random.NextDouble() < 0.1) return visit;
        var method = random.NextDouble() switch { < 0.8 => "card", < 0.9 => "cash", _ => "check" };
        return visit with { PatientPaidOn = day, PatientPaid = InfusionCash + DrugCash, PaymentMethod = method };
    }

    private static PracticeVisit Insured(Random random, int patient, PracticePayer payer, DateOnly day, DateOnly today, DateOnly firstMonth)
    {
        var visit = new PracticeVisit(patient, payer.Id, day);
        // A few visits are never put on a claim (the unbilled worklist finds them); the rest are filed within five days.
        if (random.NextDouble() < 0.03) return visit;
        var filed = day.AddDays(random.Next(1, 6));
        if (filed > today) return visit;
        visit = visit with { FiledOn = filed };

        var answered = filed.AddDays(random.Next(payer.MinDays, payer.MaxDays + 1));
        while (answered.DayOfWeek != payer.PaysOn) answered = answered.AddDays(1);
        if (answered > today) return visit;

        var monthIndex = (day.Year - firstMonth.Year) * 12 + day.Month - firstMonth.Month;
        // Cedar Valley's new contract cuts its infusion rate from the seventh month; Northwind starts denying for
        // missing prior authorization (CARC 197) from the ninth.
        var allowed = payer.Id == DemoIds.CedarValley && monthIndex >= 6 ? payer.Allowed - 25.00m : payer.Allowed;
        var denialRate = payer.Id == DemoIds.Northwind ? (monthIndex >= 8 ? 0.22 : 0.05) : payer.Id == DemoIds.CedarValley ? 0.10 : 0.06;
        if (random.NextDouble() < denialRate)
        {
            var reason = payer.Id == DemoIds.Northwind && monthIndex >= 8 ? "197" : random.NextDouble() switch { < 0.4 => "50", < 0.7 => "16", _ => "96" };
            return visit with
            {
                AnsweredOn = answered,
                Answer = [new PracticeLine("96365", Infusion, 0m, 0m, 0m, reason), new PracticeLine("J3490", Drug, 0m, 0m, 0m, reason)]
            };
        }

        var share = payer.Copay > 0 ? payer.Copay : Math.Round(allowed * payer.Coinsurance, 2, MidpointRounding.ToEven);
        visit = visit with
        {
            AnsweredOn = answered,
            Answer = [new PracticeLine("96365", Infusion, allowed, allowed - share, share, null), new PracticeLine("J3490", Drug, payer.DrugAllowed, payer.DrugAllowed, 0m, null)]
        };
        // Three patients in four pay their share within a few weeks of the payer's answer.
        if (random.NextDouble() >= 0.75) return visit;
        var paidOn = answered.AddDays(random.Next(3, 25));
        return paidOn > today ? visit : visit with { PatientPaidOn = paidOn, PatientPaid = share, PaymentMethod = random.NextDouble() < 0.85 ? "card" : "check" };
    }
}

/// <summary>How one payer of the practice pays: its weekday of 835 payments, answer lag, contracted rates and the patient's share.</summary>
public sealed record PracticePayer(
    Guid Id, double Share, DayOfWeek PaysOn, int MinDays, int MaxDays, decimal Allowed, decimal DrugAllowed, decimal Coinsurance, decimal Copay)
{
    /// <summary>The demo payer it is (its name and X12 payer id).</summary>
    public Payers.Payer Payer => DemoSeeder.Payers.Single(p => p.Id == Id);

    /// <summary>Its X12 payer id: the 835's payer and the start of member ids and trace numbers.</summary>
    public string Code => Payer.PayerId;
}

/// <summary>
/// The practice's plan turned into streams, step by step through the decisions the API makes: each patient's
/// account, their claims, and the payers' 835 remittances (one per payer and payment day).
/// </summary>
public sealed class PracticeStreams
{
    public List<DemoAccount> Accounts { get; } = [];

    public List<RemittanceReceived> Remittances { get; } = [];

    public static PracticeStreams Build(PracticePlan plan, FeeSchedule schedule, ClinicCalendar calendar)
    {
        var built = new PracticeStreams();
        var posted = new Dictionary<(PracticePayer Payer, DateOnly On), List<PostedClaim>>();
        foreach (var patient in plan.Patients)
        {
            var payer = PracticePlan.Payers.SingleOrDefault(p => p.Id == patient.PayerId);
            var account = new DemoAccount(DemoIds.Patient(patient.Number), (patient.First, patient.Last, patient.Born, patient.Diagnosis), schedule, calendar,
                patient.RegisteredOn.DayNumber - plan.Today.DayNumber, DemoAddresses.For(patient.Number));
            int Day(DateOnly d) => account.DayOf(d);
            if (payer is not null) account.Coverage(Day(patient.RegisteredOn), payer.Id, patient.MemberId!, Day(plan.FirstMonth.AddMonths(-1)));

            // Every step of every visit, in the order they happened (a later visit's session can come before an earlier one's answer).
            var visits = plan.Visits.Where(v => v.Patient == patient.Number).ToList();
            var sessions = new Guid[visits.Count];
            var claims = new Guid[visits.Count];
            var steps = new List<(DateOnly On, int Order, int Visit, Action Run)>();
            for (var i = 0; i < visits.Count; i++)
            {
                var n = i;
                var v = visits[i];
                steps.Add((v.DeliveredOn, 0, n, () => sessions[n] = account.Session(Day(v.DeliveredOn), funding: payer is null ? "self-pay" : "insurance")));
                if (v.FiledOn is { } filed) steps.Add((filed, 1, n, () => claims[n] = account.Claim(Day(filed), payer!.Id, [sessions[n]])));
                if (v.AnsweredOn is { } answered)
                {
                    steps.Add((answered, 2, n, () =>
                    {
                        var trace = $"{payer!.Code}{answered:yyyyMMdd}";
                        var claimLines = account.Claims.Single(c => c.Id == claims[n]).State.Lines;
                        var lines = v.Answer.Select(a => new PostingLine(claimLines.Single(l => l.Code == a.Code).LineNumber, a.Charge, a.Allowed, a.Paid,
                            a.Denied
                                ? [new ClaimAdjustment("CO", a.DenialReason!, a.Charge)]
                                : [.. a.Contractual > 0 ? [new ClaimAdjustment("CO", "45", a.Contractual)] : Array.Empty<ClaimAdjustment>(),
                                   .. a.PatientShare > 0 ? [new ClaimAdjustment("PR", payer.Copay > 0 ? "3" : "2", a.PatientShare)] : Array.Empty<ClaimAdjustment>()],
                            [])).ToList();
                        var claim = account.Adjudicate(Day(answered), claims[n], ImportRemittanceEndpoint.RemittanceId(payer.Code, trace), trace, lines);
                        if (!posted.TryGetValue((payer, answered), out var list)) posted[(payer, answered)] = list = [];
                        list.Add(claim);
                    }));
                }

                if (v.PatientPaidOn is { } paidOn)
                {
                    steps.Add((paidOn, 3, n, () => account.Payment(Day(paidOn), v.PaymentMethod, v.PatientPaid,
                        v.PaymentMethod == "card" ? $"card ending {1000 + patient.Number}" : $"{v.PaymentMethod} {patient.Number}-{n + 1}", sessions[n])));
                }
            }

            foreach (var step in steps.OrderBy(s => s.On).ThenBy(s => s.Order).ThenBy(s => s.Visit)) step.Run();
            built.Accounts.Add(account);
        }

        foreach (var ((payer, on), claims) in posted.OrderBy(p => p.Key.On).ThenBy(p => p.Key.Payer.Code, StringComparer.Ordinal))
        {
            var trace = $"{payer.Code}{on:yyyyMMdd}";
            var name = payer.Payer.Name;
            var paid = claims.Sum(c => c.Paid);
            var remittanceId = ImportRemittanceEndpoint.RemittanceId(payer.Code, trace);
            var recorded = RecordRemittanceHandler.Decide(null, new RecordRemittance(remittanceId, name, payer.Code, payer.Id, trace,
                paid > 0 ? "ACH" : "NON", paid, on, $"demo:{trace}", claims, [], []), DemoAccount.At(calendar, on));
            built.Remittances.Add(recorded.EventsFor(remittanceId).OfType<RemittanceReceived>().Single());
        }

        return built;
    }
}

/// <summary>
/// The bank side of the demo: every receipt is deposited the next banking day (card batches, cash and checks,
/// each 835's EFT, employer and sponsor payments), except those of the last two days, which the bank has not
/// reported yet; the last cash-and-check batch of ten or more days ago, which never reached the bank; and one
/// credit nobody can place.
/// </summary>
public static class DemoDeposits
{
    public static DateOnly DepositDay(DateOnly received)
    {
        var day = received.AddDays(1);
        while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) day = day.AddDays(1);
        return day;
    }

    /// <summary>Deposited by the bank and on the statement: a deposit on or before two days ago.</summary>
    public static bool Reported(DateOnly depositedOn, DateOnly today) => depositedOn <= today.AddDays(-2);

    public const decimal UnidentifiedAmount = 212.40m;

    public static IEnumerable<(Guid Id, object[] Events, DateTimeOffset At)> For(IReadOnlyList<Receipt> receipts, DateOnly today, ClinicCalendar calendar)
    {
        var lost = receipts.Where(r => r.Kind == "cash-check-batch" && r.ReceivedOn <= today.AddDays(-10)).MaxBy(r => r.ReceivedOn);
        foreach (var receipt in receipts.OrderBy(r => r.ReceivedOn).ThenBy(r => r.Key, StringComparer.Ordinal))
        {
            var on = DepositDay(receipt.ReceivedOn);
            if (!Reported(on, today) || receipt == lost) continue;
            var id = DeterministicGuid.From(Guid.Empty, $"demo-deposit:{receipt.Key}");
            var at = DemoAccount.At(calendar, on, 30);
            // Recorded as POST /api/deposits records it: the one receipt it is, matched automatically.
            yield return (id, [.. RecordDepositEndpoint.Decide(null, new RecordDeposit(id, receipt.Amount, on, receipt.Reference), [receipt], at).EventsFor(id)], at);
        }

        var unidentified = DeterministicGuid.From(Guid.Empty, "demo-deposit:unidentified");
        var when = DemoAccount.At(calendar, today.AddDays(-6), 45);
        yield return (unidentified,
            [.. RecordDepositEndpoint.Decide(null, new RecordDeposit(unidentified, UnidentifiedAmount, today.AddDays(-6), "ACH CREDIT 0412 ORIG UNKNOWN"), [], when).EventsFor(unidentified)],
            when);
    }
}
