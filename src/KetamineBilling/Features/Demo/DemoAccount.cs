using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Demo;

/// <summary>
/// Builds one demo account through the same decisions the API makes, so the demo events are events the API
/// could have written. Steps happen on days relative to today, in order; each event is stamped with its
/// step's time so that the ledger "as of" a past day shows the account as it was then. Ids derive from the
/// patient's, so a re-seed is stable.
/// </summary>
public sealed class DemoAccount
{
    private readonly FeeSchedule _schedule;
    private readonly ClinicCalendar _calendar;
    private readonly string _diagnosis;
    private int _counter;
    private int _day = int.MinValue;
    private DateTimeOffset _at;

    public DemoAccount(Guid patientId, (string First, string Last, DateOnly Born, string Diagnosis) patient, FeeSchedule schedule, ClinicCalendar calendar, int registeredDay)
    {
        _schedule = schedule;
        _calendar = calendar;
        _diagnosis = patient.Diagnosis;
        On(registeredDay);
        Add(RegisterPatientEndpoint.Decide(new RegisterPatient(patient.First, patient.Last, patient.Born, null, null), patientId, _at));
    }

    public PatientAccount Account { get; private set; } = null!;

    public List<object> Events { get; } = [];

    public List<DateTimeOffset> Timestamps { get; } = [];

    /// <summary>Claims filed in the story: each starts a claim stream of its own.</summary>
    public List<ClaimFiled> Claims { get; } = [];

    private DateOnly Today => _calendar.Today();

    private DateOnly Date(int day) => Today.AddDays(day);

    private Guid NextId() => DeterministicGuid.From(Account.Id, $"demo-{++_counter}");

    /// <summary>Moves the story to a day (never backwards: the stream must stay in time order).</summary>
    private void On(int day)
    {
        if (day < _day) throw new InvalidOperationException($"demo step on day {day} after day {_day}");
        if (day > 0) throw new InvalidOperationException("demo steps happen today or earlier");
        _day = day;
        var local = Date(day).ToDateTime(new TimeOnly(9, 0)).AddMinutes(_counter);
        _at = new DateTimeOffset(local, _calendar.Zone.GetUtcOffset(local)).ToUniversalTime();
        if (_at > DateTimeOffset.UtcNow) _at = DateTimeOffset.UtcNow.AddSeconds(-1);
    }

    private void Add(params object[] events)
    {
        foreach (var e in events)
        {
            Account = PatientAccount.Advance(Account, e);
            Events.Add(e);
            Timestamps.Add(_at);
        }
    }

    private void Take((IResult Result, object[] Events) decision)
    {
        if (decision.Events.Length == 0) throw new InvalidOperationException($"demo step refused: {decision.Result}");
        Add(decision.Events);
    }

    public Guid Series(int day, string description, int sessions)
    {
        On(day);
        var id = NextId();
        Add(new TreatmentSeriesPlanned(Account.Id, id, description, sessions, Date(day), _at));
        return id;
    }

    public void Estimate(int day, Guid series, params (string Code, int Units)[] lines)
    {
        On(day);
        Take(IssueEstimateEndpoint.Decide(
            new IssueGoodFaithEstimate(NextId(), series, Date(day), lines.Select(l => new EstimateLineInput(l.Code, l.Units)).ToList()),
            Account, _schedule, Date(day), _at));
    }

    public void Letter(int day, string condition, string treatment, string frequency, int validDays)
    {
        On(day);
        Add(new LetterOfMedicalNecessityRecorded(Account.Id, NextId(), condition, treatment, frequency, Date(day), Date(day + validDays), "dr-patel", _at));
    }

    public Guid Session(int day, string funding = "self-pay", Guid? series = null, (string Code, int Units)[]? lines = null)
    {
        On(day);
        var id = NextId();
        var command = new DeliverSession(id, Date(day), 45, "main-clinic",
            (lines ?? [("96365", 1), ("J3490", 1)]).Select(l => new SessionLineInput(l.Code, l.Units)).ToList(),
            [_diagnosis], "dr-patel", [funding], series);
        if (DeliverSessionEndpoint.Decide(command, Account, _schedule, null, DemoSeeder.Providers[0], _at) is not DeliverSessionEndpoint.Outcome.Charged charged)
        {
            throw new InvalidOperationException("demo session refused");
        }

        Add(charged.Events);
        return id;
    }

    public void Coverage(int day, Guid payerId, string memberId)
    {
        On(day);
        Add(new CoverageRecorded(Account.Id, NextId(), payerId, memberId, "GRP-DEMO", null, CoveragePriority.Primary, 40m, 20m, 1500m, Date(day - 300), null, _at));
    }

    public void Claim(int day, Guid payerId, IReadOnlyList<Guid> sessions)
    {
        On(day);
        var payer = DemoSeeder.Payers.Single(p => p.Id == payerId);
        var decision = FileClaimEndpoint.Decide(new FileClaim(NextId(), Account.Id, payerId, sessions), Account, payer, null,
            new ClinicProfile { Ndcs = new() { ["J3490"] = "00409205101" } }, _at);
        if (decision.Filed is null) throw new InvalidOperationException($"demo claim refused: {decision.Result}");
        Claims.Add(decision.Filed);
        Add(decision.Claimed!);
    }

    public void Payment(int day, string method, decimal amount, string reference)
    {
        On(day);
        Take(RecordPaymentEndpoint.Decide(new RecordPayment(NextId(), method, amount, Date(day), reference), Account, _at));
    }

    public void Discount(int day, Guid series, string incomeBand)
    {
        On(day);
        Take(GrantDiscountEndpoint.Decide(
            new GrantDiscount(NextId(), "sliding-scale", null, null, incomeBand, null, series, "Household income 250% of the federal poverty guideline"),
            Account, _at));
    }

    public void Plan(int day, params (int Day, decimal Amount)[] instalments)
    {
        On(day);
        Take(AgreePaymentPlanEndpoint.Decide(
            new AgreePaymentPlan(NextId(), Date(day), instalments.Select(i => new InstalmentInput(Date(i.Day), i.Amount)).ToList()),
            Account, Date(day), _at));
    }

    public void Void(int day, Guid session, string reason)
    {
        On(day);
        VoidSessionEndpoint.Decide(session, new VoidSession(reason), Account, _at, out var events);
        Add(events);
    }

    public void Refund(int day, decimal amount, string method, string reason)
    {
        On(day);
        Take(IssueRefundEndpoint.Decide(new IssueRefund(NextId(), amount, method, reason), Account, _at));
    }

    public void ApplyCredit(int day)
    {
        On(day);
        Take(ApplyCreditEndpoint.Decide(new ApplyCredit(NextId(), null, null, null), Account, _at));
    }

    public void WriteOff(int day, string reason, string note)
    {
        On(day);
        Take(WriteOffBalanceEndpoint.Decide(new WriteOffBalance(NextId(), reason, note, null, null), Account, _at));
    }
}
