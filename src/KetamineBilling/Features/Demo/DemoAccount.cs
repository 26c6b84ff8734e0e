using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ledger;

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

    public DemoAccount(Guid patientId, (string First, string Last, DateOnly Born, string Diagnosis) patient, FeeSchedule schedule, ClinicCalendar calendar, int registeredDay,
        PostalAddress? address = null)
    {
        _schedule = schedule;
        _calendar = calendar;
        _diagnosis = patient.Diagnosis;
        On(registeredDay);
        Add(RegisterPatientEndpoint.Decide(new RegisterPatient(patient.First, patient.Last, patient.Born, null, null, address), patientId, _at));
    }

    public PatientAccount Account { get; private set; } = null!;

    public List<object> Events { get; } = [];

    public List<DateTimeOffset> Timestamps { get; } = [];

    /// <summary>Claims filed in the story: each is a claim stream of its own.</summary>
    public List<DemoStream<Claim>> Claims { get; } = [];

    private DateOnly Today => _calendar.Today();

    private DateOnly Date(int day) => Today.AddDays(day);

    private Guid NextId() => DeterministicGuid.From(Account.Id, $"demo-{++_counter}");

    /// <summary>Moves the story to a day (never backwards: the stream must stay in time order).</summary>
    private void On(int day)
    {
        if (day < _day) throw new InvalidOperationException($"demo step on day {day} after day {_day}");
        if (day > 0) throw new InvalidOperationException("demo steps happen today or earlier");
        _day = day;
        _at = At(_calendar, Date(day), _counter % 480);
    }

    /// <summary>A moment of a clinic day: 9:00 local plus some minutes (never later than now).</summary>
    public static DateTimeOffset At(ClinicCalendar calendar, DateOnly date, int minutes = 0)
    {
        var local = date.ToDateTime(new TimeOnly(9, 0)).AddMinutes(minutes);
        var at = new DateTimeOffset(local, calendar.Zone.GetUtcOffset(local)).ToUniversalTime();
        return at > DateTimeOffset.UtcNow ? DateTimeOffset.UtcNow.AddSeconds(-1) : at;
    }

    public int DayOf(DateOnly date) => date.DayNumber - Today.DayNumber;

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

    public void Coverage(int day, Guid payerId, string memberId, int effectiveDay = int.MinValue)
    {
        On(day);
        Add(new CoverageRecorded(Account.Id, NextId(), payerId, memberId, "GRP-DEMO", null, CoveragePriority.Primary, 40m, 20m, 1500m,
            Date(effectiveDay == int.MinValue ? day - 300 : effectiveDay), null, _at));
    }

    public Guid Claim(int day, Guid payerId, IReadOnlyList<Guid> sessions)
    {
        On(day);
        var payer = DemoSeeder.Payers.Single(p => p.Id == payerId);
        var claimId = NextId();
        var outcome = FileClaimEndpoint.Decide(Account, new FileClaim(claimId, Account.Id, payerId, sessions), payer, null,
            new ClinicProfile { Ndcs = new() { ["J3490"] = "00409205101" } }, _at);
        if (outcome is not Outcome.Accepted) throw new InvalidOperationException($"demo claim refused: {outcome}");
        var filed = outcome.EventsFor(claimId).OfType<ClaimFiled>().Single();
        var claim = new DemoStream<Claim>(filed.ClaimId, Features.Claims.Claim.Create(filed), (c, e) =>
        {
            if (e is ClaimAdjudicated adjudicated) c.Apply(adjudicated);
        });
        claim.Events.Add(filed);
        claim.Timestamps.Add(_at);
        Claims.Add(claim);
        Add([.. outcome.EventsFor(Account.Id)]);
        return claim.Id;
    }

    /// <summary>The payer's answer to a claim, posted from its 835 (the remittance stream is written apart) by the posting rules.</summary>
    public PostedClaim Adjudicate(int day, Guid claimId, Guid remittanceId, string trace, IReadOnlyList<PostingLine> lines)
    {
        On(day);
        var claim = Claims.Single(c => c.Id == claimId);
        var outcome = ClaimPosting.Post(claim.State, Account, $"835 {trace}", lines, $"PCN{claim.State.ControlNumber}", remittanceId, _at);
        if (outcome.Problem is not null) throw new InvalidOperationException($"demo posting refused: {outcome.Problem}");
        foreach (var e in outcome.ClaimEvents) claim.Add(e, _at);
        Add([.. outcome.PatientEvents]);
        var status = outcome.ClaimEvents.OfType<ClaimAdjudicated>().Single().Outcome switch { ClaimStatus.Denied => "4", _ => "1" };
        return new PostedClaim(claimId, claim.State.ControlNumber, status, outcome.Paid, outcome.Lines);
    }

    public void Enroll(int day, DemoStream<EmployerAgreement> employer, string memberId)
    {
        On(day);
        foreach (var year in new[] { Date(day).Year, _calendar.Today().Year }.Distinct())
            employer.Add(new EmployeeEnrolled(employer.Id, Account.Id, memberId, year, _at), _at);
    }

    /// <summary>An employer-funded session and what the employer's cascade does with it (the cascade's own decision).</summary>
    public void EmployerSession(int day, DemoStream<EmployerAgreement> employer)
    {
        var sessionId = Session(day, funding: "employer");
        var session = Account.Session(sessionId)!;
        var (committed, events) = CommitDirectPayHandler.Decide(
            new EmployerFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), Account, [employer.State], _at);
        if (committed is not null) employer.Add(committed, _at);
        Add([.. events]);
    }

    /// <summary>The employer's invoice for the month before the given day, when it has uninvoiced sessions.</summary>
    public void EmployerInvoice(int day, DemoStream<EmployerAgreement> employer)
    {
        On(day);
        var month = new DateOnly(Date(day).Year, Date(day).Month, 1).AddMonths(-1);
        var lines = employer.State.Commitments.Where(c => c.InvoiceId is null && c.Amount > 0 && c.DeliveredOn >= month && c.DeliveredOn < month.AddMonths(1))
            .Select(c => new InvoiceLine(c.SessionId, c.MemberId, c.DeliveredOn, c.Amount)).ToList();
        if (lines.Count == 0) return;
        employer.Add(new EmployerInvoiceIssued(employer.Id, NextId(), $"INV-{month:yyyyMM}-01", month, month.AddMonths(1).AddDays(-1), lines, lines.Sum(l => l.Amount),
            Date(day), Date(day).AddDays(employer.State.Terms.PaymentTermsDays), _at), _at);
    }

    /// <summary>The employer pays up to the amount on its open invoices; this patient's lines are paid on the account (the payment endpoint's decisions).</summary>
    public void EmployerPayment(int day, DemoStream<EmployerAgreement> employer, decimal amount, string reference)
    {
        On(day);
        amount = Math.Min(amount, employer.State.Invoices.Where(i => i.Open > 0).Sum(i => i.Open));
        if (amount <= 0) return;
        var before = Snapshot.Copy(employer.State);
        employer.Add(RecordEmployerPaymentEndpoint.Receive(employer.State, NextId(), reference, amount, Date(day), null, _at), _at);
        foreach (var (patientId, allocations) in RecordEmployerPaymentEndpoint.Allocations(before, employer.State).Where(x => x.PatientId == Account.Id))
            Add(new ThirdPartyPaymentApplied(patientId, ResponsibleParty.Employer, employer.Id, reference, allocations, allocations.Sum(a => a.Amount), _at));
    }

    /// <summary>A grant-funded session and what the grant's cascade decides (the award applied, the clinic's reduction, the rest to the patient).</summary>
    public void GrantSession(int day, DemoStream<KetamineBilling.Features.Grants.Grant> grant)
    {
        var sessionId = Session(day, funding: "grant");
        var session = Account.Session(sessionId)!;
        var decision = KetamineBilling.Features.Grants.ApplyGrantHandler.Decide(
            new KetamineBilling.Features.Grants.GrantFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), Account, [grant.State], _at);
        if (decision.Applied is not null) grant.Add(decision.Applied, _at);
        Add([.. decision.AccountEvents]);
    }

    /// <summary>A study session: the subject enrolled first (once), then what the study's cascade decides.</summary>
    public void StudySession(int day, DemoStream<KetamineBilling.Features.Studies.Study> study, string subjectId)
    {
        On(day);
        if (study.State.Subjects.All(s => s.PatientId != Account.Id))
            study.Add(new KetamineBilling.Features.Studies.StudyPatientEnrolled(study.Id, Account.Id, subjectId, _at), _at);
        var sessionId = Session(day, funding: "study");
        var session = Account.Session(sessionId)!;
        var (covered, events) = KetamineBilling.Features.Studies.CoverStudySessionHandler.Decide(
            new KetamineBilling.Features.Studies.StudyFundedSessionDelivered(Account.Id, sessionId, session.DeliveredOn, session.Delivered.Lines), Account, study.State, _at);
        if (covered is not null) study.Add(covered, _at);
        Add([.. events]);
    }

    public void Payment(int day, string method, decimal amount, string reference, Guid? forSession = null)
    {
        On(day);
        Take(RecordPaymentEndpoint.Decide(new RecordPayment(NextId(), method, amount, Date(day), reference,
            forSession is { } session ? [new LineTarget(session, null)] : null), Account, _at));
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
