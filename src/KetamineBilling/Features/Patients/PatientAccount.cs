using KetamineBilling.Features.Ledger;
namespace KetamineBilling.Features.Patients;

public sealed class AccountLine
{
    public int LineNumber { get; set; }
    public string Code { get; set; } = "";
    public string Description { get; set; } = "";
    public int Units { get; set; }
    public decimal UnitPrice { get; set; }
    public decimal Charge { get; set; }
    public List<string> Modifiers { get; set; } = [];
    public DrugGiven? Drug { get; set; }
    public PartyAmounts Open { get; set; } = new();
    public decimal PatientPaid { get; set; }
    public decimal InsurancePaid { get; set; }
    /// <summary>Paid by employers, grants and sponsors together (each is also kept on its own below).</summary>
    public decimal ThirdPartyPaid { get; set; }
    public decimal EmployerPaid { get; set; }
    public decimal GrantPaid { get; set; }
    public decimal SponsorPaid { get; set; }
    public decimal Adjusted { get; set; }

    /// <summary>What <see cref="Adjusted"/> is made of, by kind (the general ledger posts each kind to its own account).</summary>
    public AdjustmentAmounts AdjustedBy { get; set; } = new();

    /// <summary>Paid on this line by everyone: the patient, insurance, employers, grants and sponsors.</summary>
    public decimal Paid => PatientPaid + InsurancePaid + ThirdPartyPaid;
    public bool Denied { get; set; }
}

/// <summary>Why an amount was adjusted off a line: each kind is its own account in the general ledger.</summary>
public enum AdjustmentKind
{
    /// <summary>A payer's CO/OA/PI adjustment (the contract's reduction).</summary>
    Contractual,
    Discount,
    SmallBalance,
    Charity,
    BadDebt,
    /// <summary>An employer's, grant's or sponsor's agreed reduction (a study's contracted rate, fee sharing).</summary>
    ThirdParty
}

/// <summary>A line's adjustments by kind.</summary>
public sealed class AdjustmentAmounts
{
    public decimal Contractual { get; set; }
    public decimal Discount { get; set; }
    public decimal SmallBalance { get; set; }
    public decimal Charity { get; set; }
    public decimal BadDebt { get; set; }
    public decimal ThirdParty { get; set; }

    public decimal Total => Contractual + Discount + SmallBalance + Charity + BadDebt + ThirdParty;

    public decimal this[AdjustmentKind kind]
    {
        get => kind switch
        {
            AdjustmentKind.Contractual => Contractual,
            AdjustmentKind.Discount => Discount,
            AdjustmentKind.SmallBalance => SmallBalance,
            AdjustmentKind.Charity => Charity,
            AdjustmentKind.BadDebt => BadDebt,
            AdjustmentKind.ThirdParty => ThirdParty,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null)
        };
        set
        {
            switch (kind)
            {
                case AdjustmentKind.Contractual: Contractual = value; break;
                case AdjustmentKind.Discount: Discount = value; break;
                case AdjustmentKind.SmallBalance: SmallBalance = value; break;
                case AdjustmentKind.Charity: Charity = value; break;
                case AdjustmentKind.BadDebt: BadDebt = value; break;
                case AdjustmentKind.ThirdParty: ThirdParty = value; break;
                default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
            }
        }
    }

    public static AdjustmentKind Of(WriteOffReason reason) => reason switch
    {
        WriteOffReason.SmallBalance => AdjustmentKind.SmallBalance,
        WriteOffReason.BadDebt => AdjustmentKind.BadDebt,
        WriteOffReason.Charity => AdjustmentKind.Charity,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null)
    };
}

public sealed class AccountSession
{
    public Guid SessionId { get; set; }
    public DateOnly DeliveredOn { get; set; }
    public int DurationMinutes { get; set; }
    public string LocationId { get; set; } = "";
    /// <summary>The CMS place of service code recorded with the session; null before it was kept (claims print 11).</summary>
    public string? PlaceOfService { get; set; }
    public string? ProviderId { get; set; }
    public List<FundingSource> Funding { get; set; } = [];
    public Guid? SeriesId { get; set; }
    public int? SeriesSessionNumber { get; set; }
    /// <summary>A booster after (or outside) a series; false on sessions recorded before boosters were marked.</summary>
    public bool Booster { get; set; }
    public List<string> DiagnosisCodes { get; set; } = [];
    public List<AccountLine> Lines { get; set; } = [];
    public bool Voided { get; set; }
    public string? VoidReason { get; set; }
    /// <summary>Open claims this session is on, by payer.</summary>
    public List<SessionClaim> Claims { get; set; } = [];
    public Guid? AuthorizationId { get; set; }
    public Guid? AuthorizationPayerId { get; set; }
    public string? AuthorizationNumber { get; set; }
    public AuthorizationFlag? AuthorizationFlag { get; set; }

    /// <summary>A missed appointment's fee (<see cref="NoShowFeeCharged"/>), not a session given: never claimed, never on a superbill.</summary>
    public NoShowFeeCharged? NoShow { get; set; }

    /// <summary>The event as first recorded: a replay of the same session id is compared with it.</summary>
    public SessionDelivered Delivered { get; set; } = null!;

    public decimal Charge => Lines.Sum(l => l.Charge);
}

public sealed record SessionClaim(Guid ClaimId, Guid PayerId);

/// <summary>A placement of the account with a collection agency, and what came of it.</summary>
public sealed class CollectionPlacement
{
    public Guid PlacementId { get; set; }
    public Guid AgencyId { get; set; }
    public string AgencyName { get; set; } = "";
    public decimal CommissionPercent { get; set; }
    public DateOnly PlacedOn { get; set; }
    public decimal Placed { get; set; }
    public decimal Collected { get; set; }
    public decimal Commission { get; set; }
    public decimal Recalled { get; set; }
    public DateTimeOffset? RecalledAt { get; set; }
    public string? RecallReason { get; set; }
    public string Fingerprint { get; set; } = "";
    public List<CollectionAgencyRecovered> Recoveries { get; set; } = [];

    /// <summary>Still with the agency: not recalled.</summary>
    public bool Active => RecalledAt is null;
}

public sealed class AccountPayment
{
    public Guid PaymentId { get; set; }
    public PaymentMethod Method { get; set; }
    public decimal Amount { get; set; }
    public DateOnly ReceivedOn { get; set; }
    public string? Reference { get; set; }

    /// <summary>Not applied to any line and not refunded: this payment's share of the unapplied credit.</summary>
    public decimal Unapplied { get; set; }

    public decimal Refunded { get; set; }
    public List<LineAmount> Applied { get; set; } = [];
    public bool Reversed { get; set; }
    public PaymentReceived Received { get; set; } = null!;
}

public sealed class TreatmentSeries
{
    public Guid SeriesId { get; set; }
    public string Description { get; set; } = "";
    public int PlannedSessions { get; set; }
    public DateOnly PlannedOn { get; set; }
}

/// <summary>
/// The patient account: the write model every account decision reads, and the inline document the balance,
/// the ledger and the statements are computed from. Its Apply methods are the only arithmetic on money in
/// the account; the decisions say what happens, these say what it does to the figures.
/// </summary>
/// <summary>A visit on the schedule: attended when a session was delivered that day, or cancelled.</summary>
public sealed class ScheduledVisit
{
    public Guid VisitId { get; set; }
    public DateOnly On { get; set; }
    public string? Time { get; set; }
    public string Purpose { get; set; } = "";
    public DateTimeOffset ScheduledAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public string? CancelReason { get; set; }
    public bool Cancelled => CancelledAt is not null;
}

public sealed class PatientAccount
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string FirstName { get; set; } = "";
    public string LastName { get; set; } = "";
    public DateOnly DateOfBirth { get; set; }
    public PostalAddress? Address { get; set; }
    public string Sex { get; set; } = "U";
    public List<AccountSession> Sessions { get; set; } = [];
    public List<AccountPayment> Payments { get; set; } = [];
    public List<RefundIssued> Refunds { get; set; } = [];
    public List<DiscountGranted> Discounts { get; set; } = [];
    public List<BalanceWrittenOff> WriteOffs { get; set; } = [];
    public List<TreatmentSeries> Series { get; set; } = [];
    public List<LetterOfMedicalNecessityRecorded> Letters { get; set; } = [];
    public List<GoodFaithEstimateIssued> Estimates { get; set; } = [];
    public List<PaymentPlanAgreed> Plans { get; set; } = [];
    public List<CollectionPlacement> Placements { get; set; } = [];
    public List<BadDebtReinstated> Reinstatements { get; set; } = [];
    /// <summary>Credit applications made by request: their id and request fingerprint.</summary>
    public Dictionary<Guid, string> CreditApplications { get; set; } = [];
    /// <summary>
    /// Every coverage period, as claims and the aging read it: a change ends the period it changes the day before its effective
    /// date and adds the new terms as a period of their own (<see cref="CoverageChanged.NewCoverageId"/>); an end sets ActiveTo.
    /// </summary>
    public List<CoverageRecorded> Coverages { get; set; } = [];
    public List<CoverageChanged> CoverageChanges { get; set; } = [];
    public List<CoverageEnded> CoverageEnds { get; set; } = [];
    public List<CopayAssistanceRecorded> CopayAssistance { get; set; } = [];
    /// <summary>Visits on the clinic's schedule, cancelled ones kept with their reason.</summary>
    public List<ScheduledVisit> Visits { get; set; } = [];
    /// <summary>Every eligibility answer recorded for the patient's coverages, oldest first.</summary>
    public List<EligibilityChecked> EligibilityChecks { get; set; } = [];
    /// <summary>Corrections of the patient's details and address: their change id and request fingerprint.</summary>
    public Dictionary<Guid, string> DetailChanges { get; set; } = [];
    public string? Email { get; set; }
    public string? Phone { get; set; }

    public decimal TotalCharged { get; set; }
    public decimal TotalVoided { get; set; }
    public decimal TotalPaid { get; set; }
    public decimal TotalAdjusted { get; set; }
    public decimal TotalRefunded { get; set; }

    /// <summary>The part of TotalPaid that came from insurers.</summary>
    public decimal TotalInsurancePaid { get; set; }

    public List<InsurancePaymentPosted> InsurancePostings { get; set; } = [];

    /// <summary>What payers paid beyond what insurance owed, by claim (insurance credit, owed back to the payer).</summary>
    public List<InsuranceOverpaid> InsuranceOverpayments { get; set; } = [];

    /// <summary>The refunds to payers and the payers' recoveries that cleared insurance credit.</summary>
    public List<InsuranceOverpaymentCleared> InsuranceOverpaymentClearings { get; set; } = [];

    /// <summary>Insurance credit still owed back to payers, on every claim.</summary>
    public decimal InsuranceCredit => InsuranceOverpayments.Sum(o => o.Amount) - InsuranceOverpaymentClearings.Sum(c => c.Amount);

    /// <summary>Insurance credit still owed back to the payer on one claim.</summary>
    public decimal InsuranceCreditOn(Guid claimId) =>
        InsuranceOverpayments.Where(o => o.ClaimId == claimId).Sum(o => o.Amount) - InsuranceOverpaymentClearings.Where(c => c.ClaimId == claimId).Sum(c => c.Amount);
    public List<OutOfNetworkReimbursementReported> OutOfNetworkReimbursements { get; set; } = [];
    public decimal UnappliedCredit { get; set; }
    public DateTimeOffset LastChangedAt { get; set; }

    public string Name => $"{FirstName} {LastName}";

    public AccountSession? Session(Guid sessionId) => Sessions.FirstOrDefault(s => s.SessionId == sessionId);

    /// <summary>A coverage by its id: a plan, or a copay-assistance program billed through a payer (as a secondary coverage).</summary>
    public CoverageRecorded? CoverageFor(Guid coverageId) =>
        Coverages.FirstOrDefault(c => c.CoverageId == coverageId) ?? CopayAssistance.FirstOrDefault(p => p.ProgramId == coverageId)?.AsCoverage();

    /// <summary>What a payer has paid on the sessions of a calendar year (its postings still standing): against an annual maximum.</summary>
    public decimal PaidByPayer(Guid payerId, int year) =>
        InsurancePostings.Where(p => p.PayerId == payerId).SelectMany(p => p.Lines).Where(l => Session(l.SessionId)?.DeliveredOn.Year == year).Sum(l => l.Paid);

    public AccountPayment? Payment(Guid paymentId) => Payments.FirstOrDefault(p => p.PaymentId == paymentId);

    /// <summary>The placement with a collection agency that still stands, if any (one at a time).</summary>
    public CollectionPlacement? ActivePlacement => Placements.LastOrDefault(p => p.Active);

    /// <summary>What of each line was written off as bad debt and not yet reinstated by a recovery, oldest date of service first.</summary>
    public IEnumerable<(AccountSession Session, AccountLine Line, decimal Amount)> BadDebtLines()
    {
        var left = new Dictionary<(Guid, int), decimal>();
        foreach (var a in WriteOffs.Where(w => w.Reason == WriteOffReason.BadDebt).SelectMany(w => w.Allocations))
            left[(a.SessionId, a.LineNumber)] = left.GetValueOrDefault((a.SessionId, a.LineNumber)) + a.Amount;
        foreach (var a in Reinstatements.SelectMany(r => r.Allocations)) left[(a.SessionId, a.LineNumber)] -= a.Amount;
        return Sessions.Where(s => !s.Voided).OrderBy(s => s.DeliveredOn)
            .SelectMany(s => s.Lines.OrderBy(l => l.LineNumber).Select(l => (s, l, left.GetValueOrDefault((s.SessionId, l.LineNumber)))))
            .Where(x => x.Item3 > 0);
    }

    public AccountLine? Line(Guid sessionId, int lineNumber) =>
        Session(sessionId)?.Lines.FirstOrDefault(l => l.LineNumber == lineNumber);

    /// <summary>Open amounts of all live sessions, by party.</summary>
    public PartyAmounts Open()
    {
        var open = new PartyAmounts();
        foreach (var line in Sessions.Where(s => !s.Voided).SelectMany(s => s.Lines))
        {
            open.Add(line.Open);
        }

        return open;
    }

    /// <summary>Lines with patient responsibility still open, oldest date of service first.</summary>
    public IEnumerable<(AccountSession Session, AccountLine Line)> OpenPatientLines() =>
        Sessions.Where(s => !s.Voided)
            .OrderBy(s => s.DeliveredOn)
            .SelectMany(s => s.Lines.OrderBy(l => l.LineNumber).Select(l => (s, l)))
            .Where(x => x.l.Open.Patient > 0);

    /// <summary>Lines one party still owes, oldest date of service first.</summary>
    public IEnumerable<(AccountSession Session, AccountLine Line)> OpenLines(ResponsibleParty party) =>
        Sessions.Where(s => !s.Voided)
            .OrderBy(s => s.DeliveredOn)
            .SelectMany(s => s.Lines.OrderBy(l => l.LineNumber).Select(l => (s, l)))
            .Where(x => x.l.Open[party] > 0);

    public static PatientAccount Create(PatientRegistered e) => new()
    {
        Id = e.PatientId,
        FirstName = e.FirstName,
        LastName = e.LastName,
        DateOfBirth = e.DateOfBirth,
        Address = e.Address,
        Sex = e.Sex ?? "U",
        Email = e.Email,
        Phone = e.Phone,
        LastChangedAt = e.RegisteredAt
    };

    public void Apply(PatientDetailsCorrected e)
    {
        FirstName = e.FirstName;
        LastName = e.LastName;
        DateOfBirth = e.DateOfBirth;
        Sex = e.Sex;
        Email = e.Email;
        Phone = e.Phone;
        DetailChanges[e.ChangeId] = e.Fingerprint;
        LastChangedAt = e.CorrectedAt;
    }

    public void Apply(PatientAddressChanged e)
    {
        Address = e.Address;
        DetailChanges[e.ChangeId] = e.Fingerprint;
        LastChangedAt = e.ChangedAt;
    }

    public void Apply(SessionDelivered e)
    {
        var session = new AccountSession
        {
            SessionId = e.SessionId,
            DeliveredOn = e.DeliveredOn,
            DurationMinutes = e.DurationMinutes,
            LocationId = e.LocationId,
            PlaceOfService = e.PlaceOfService,
            ProviderId = e.ProviderId,
            Funding = [.. e.Funding ?? [FundingSource.SelfPay]],
            SeriesId = e.SeriesId,
            SeriesSessionNumber = e.SeriesSessionNumber,
            Booster = e.Booster,
            DiagnosisCodes = [.. e.DiagnosisCodes],
            Delivered = e,
            Lines = e.Lines.Select(l =>
            {
                var line = new AccountLine
                {
                    LineNumber = l.LineNumber, Code = l.Code, Description = l.Description, Units = l.Units, UnitPrice = l.UnitPrice,
                    Charge = l.Amount, Modifiers = [.. l.ModifierList], Drug = l.Drug
                };
                line.Open[e.ResponsibleParty] = l.Amount;
                return line;
            }).ToList()
        };
        Sessions.Add(session);
        TotalCharged += e.TotalCharge;
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(SessionVoided e)
    {
        var session = Session(e.SessionId)!;
        session.Voided = true;
        session.VoidReason = e.Reason;
        foreach (var line in session.Lines)
        {
            line.Open = new PartyAmounts();
        }

        TotalCharged -= e.ChargeReversed;
        TotalVoided += e.ChargeReversed;
        TotalAdjusted -= e.AdjustmentsReversed;
        LastChangedAt = e.VoidedAt;
    }

    public void Apply(TreatmentSeriesPlanned e)
    {
        Series.Add(new TreatmentSeries { SeriesId = e.SeriesId, Description = e.Description, PlannedSessions = e.PlannedSessions, PlannedOn = e.PlannedOn });
        LastChangedAt = e.PlannedAt;
    }

    public void Apply(PaymentReceived e)
    {
        Payments.Add(new AccountPayment
        {
            PaymentId = e.PaymentId, Method = e.Method, Amount = e.Amount, ReceivedOn = e.ReceivedOn, Reference = e.Reference,
            Unapplied = e.Amount, Received = e
        });
        TotalPaid += e.Amount;
        UnappliedCredit += e.Amount;
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(PaymentApplied e)
    {
        var payment = Payment(e.PaymentId)!;
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Open.Patient -= a.Amount;
            line.PatientPaid += a.Amount;
            payment.Applied.Add(a);
        }

        payment.Unapplied -= e.Total;
        UnappliedCredit -= e.Total;
        if (e.ApplicationId is { } applicationId)
        {
            CreditApplications[applicationId] = e.Fingerprint ?? "";
        }

        LastChangedAt = e.AppliedAt;
    }

    public void Apply(PaymentUnapplied e)
    {
        var payment = Payment(e.PaymentId)!;
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.PatientPaid -= a.Amount;
            // On a voided session the line stays closed: the money only returns to credit.
            if (!Session(a.SessionId)!.Voided)
            {
                line.Open.Patient += a.Amount;
            }

            // Take the amount back from this payment's applications to the line, which may be several.
            var onLine = payment.Applied.Where(x => x.SessionId == a.SessionId && x.LineNumber == a.LineNumber).Reverse().ToList();
            foreach (var (applied, take) in Allocation.FillInOrder(onLine, a.Amount, x => x.Amount))
            {
                var index = payment.Applied.IndexOf(applied);
                if (take == applied.Amount) payment.Applied.RemoveAt(index);
                else payment.Applied[index] = applied with { Amount = applied.Amount - take };
            }
        }

        payment.Unapplied += e.Total;
        UnappliedCredit += e.Total;
        LastChangedAt = e.UnappliedAt;
    }

    public void Apply(PaymentReversed e)
    {
        var payment = Payment(e.PaymentId)!;
        payment.Reversed = true;
        payment.Unapplied -= e.Amount;
        TotalPaid -= e.Amount;
        UnappliedCredit -= e.Amount;
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(RefundIssued e)
    {
        foreach (var source in e.Sources)
        {
            var payment = Payment(source.PaymentId)!;
            payment.Unapplied -= source.Amount;
            payment.Refunded += source.Amount;
        }

        Refunds.Add(e);
        TotalRefunded += e.Amount;
        UnappliedCredit -= e.Amount;
        LastChangedAt = e.IssuedAt;
    }

    public void Apply(DiscountGranted e)
    {
        Adjust(e.Allocations, AdjustmentKind.Discount);
        Discounts.Add(e);
        LastChangedAt = e.GrantedAt;
    }

    public void Apply(BalanceWrittenOff e)
    {
        Adjust(e.Allocations, AdjustmentAmounts.Of(e.Reason));
        WriteOffs.Add(e);
        LastChangedAt = e.WrittenOffAt;
    }

    public void Apply(PaymentPlanAgreed e)
    {
        Plans.Add(e);
        LastChangedAt = e.AgreedAt;
    }

    public void Apply(LetterOfMedicalNecessityRecorded e)
    {
        Letters.Add(e);
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(SessionAuthorizationChecked e)
    {
        var session = Session(e.SessionId)!;
        session.AuthorizationId = e.AuthorizationId;
        session.AuthorizationNumber = e.AuthorizationNumber;
        session.AuthorizationPayerId = e.AuthorizationPayerId;
        session.AuthorizationFlag = e.Flag;
        LastChangedAt = e.CheckedAt;
    }

    public void Apply(SessionsClaimed e)
    {
        foreach (var sessionId in e.SessionIds)
        {
            Session(sessionId)!.Claims.Add(new SessionClaim(e.ClaimId, e.PayerId));
        }

        Move(e.Moves);
        LastChangedAt = e.ClaimedAt;
    }

    public void Apply(SessionsReleasedFromClaim e)
    {
        foreach (var sessionId in e.SessionIds)
        {
            Session(sessionId)!.Claims.RemoveAll(c => c.ClaimId == e.ClaimId);
        }

        LastChangedAt = e.ReleasedAt;
    }

    private void Move(IEnumerable<ResponsibilityMove> moves)
    {
        foreach (var m in moves)
        {
            var line = Line(m.SessionId, m.LineNumber)!;
            line.Open[m.From] -= m.Amount;
            line.Open[m.To] += m.Amount;
        }
    }

    public void Apply(InsurancePaymentPosted e)
    {
        foreach (var l in e.Lines)
        {
            var line = Line(l.SessionId, l.LineNumber)!;
            line.Open.Insurance -= l.InsuranceReduced;
            line.Open.Patient += l.PatientResponsibility;
            line.InsurancePaid += l.Paid;
            line.Adjusted += l.Contractual;
            line.AdjustedBy.Contractual += l.Contractual;
            line.Denied = l.Denied;
            TotalAdjusted += l.Contractual;
        }

        TotalPaid += e.Paid;
        TotalInsurancePaid += e.Paid;
        InsurancePostings.Add(e);
        LastChangedAt = e.PostedAt;
    }

    public void Apply(InsuranceOverpaid e)
    {
        InsuranceOverpayments.Add(e);
        LastChangedAt = e.OverpaidAt;
    }

    public void Apply(InsuranceOverpaymentCleared e)
    {
        InsuranceOverpaymentClearings.Add(e);
        LastChangedAt = e.ClearedAt;
    }

    public void Apply(InsurancePaymentReversed e)
    {
        foreach (var l in e.Lines)
        {
            var line = Line(l.SessionId, l.LineNumber)!;
            line.Open.Insurance += l.InsuranceReduced;
            line.Open.Patient -= l.PatientResponsibility;
            line.InsurancePaid -= l.Paid;
            line.Adjusted -= l.Contractual;
            line.AdjustedBy.Contractual -= l.Contractual;
            line.Denied = false;
            TotalAdjusted -= l.Contractual;
        }

        TotalPaid -= e.Paid;
        TotalInsurancePaid -= e.Paid;
        InsurancePostings.RemoveAll(p => p.Source == e.ReversedSource);
        LastChangedAt = e.ReversedAt;
    }

    public void Apply(ResponsibilityMoved e)
    {
        Move(e.Moves);
        LastChangedAt = e.MovedAt;
    }

    public void Apply(ThirdPartyPaymentApplied e)
    {
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Open[e.Party] -= a.Amount;
            line.ThirdPartyPaid += a.Amount;
            switch (e.Party)
            {
                case ResponsibleParty.Employer: line.EmployerPaid += a.Amount; break;
                case ResponsibleParty.Grant: line.GrantPaid += a.Amount; break;
                case ResponsibleParty.Sponsor: line.SponsorPaid += a.Amount; break;
            }
        }

        TotalPaid += e.Total;
        LastChangedAt = e.AppliedAt;
    }

    public void Apply(ThirdPartyAdjusted e)
    {
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Open[e.Party] -= a.Amount;
            line.Adjusted += a.Amount;
            line.AdjustedBy.ThirdParty += a.Amount;
        }

        TotalAdjusted += e.Total;
        LastChangedAt = e.AdjustedAt;
    }

    public void Apply(OutOfNetworkReimbursementReported e)
    {
        OutOfNetworkReimbursements.Add(e);
        LastChangedAt = e.ReportedAt;
    }

    public void Apply(CoverageRecorded e)
    {
        Coverages.Add(e);
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(CoverageChanged e)
    {
        var index = Coverages.FindIndex(c => c.CoverageId == e.CoverageId);
        var old = Coverages[index];
        Coverages[index] = old with { ActiveTo = e.EffectiveFrom.AddDays(-1) };
        Coverages.Add(new CoverageRecorded(Id, e.NewCoverageId, old.PayerId, e.MemberId, e.GroupNumber, old.Subscriber, e.Priority, e.Copay,
            e.CoinsurancePercent, e.Deductible, e.EffectiveFrom, e.PreviousActiveTo, e.ChangedAt, old.AnnualMaximum, old.SessionsPerYear, old.DollarMaximum,
            old.DrugBenefit));
        CoverageChanges.Add(e);
        LastChangedAt = e.ChangedAt;
    }

    public void Apply(CoverageEnded e)
    {
        var index = Coverages.FindIndex(c => c.CoverageId == e.CoverageId);
        Coverages[index] = Coverages[index] with { ActiveTo = e.EndedOn };
        CoverageEnds.Add(e);
        LastChangedAt = e.EndedAt;
    }

    public void Apply(CoverageBenefitsSet e)
    {
        var index = Coverages.FindIndex(c => c.CoverageId == e.CoverageId);
        Coverages[index] = Coverages[index] with { SessionsPerYear = e.SessionsPerYear, DollarMaximum = e.DollarMaximum, DrugBenefit = e.DrugBenefit };
        LastChangedAt = e.SetAt;
    }

    /// <summary>
    /// What the coverage's payer has used of a calendar year: the sessions of that year on a claim to it (not released), and what
    /// it paid on them (its postings still standing).
    /// </summary>
    public (int Sessions, decimal Paid) UsedBy(CoverageRecorded coverage, int year) =>
        (Sessions.Count(s => !s.Voided && s.DeliveredOn.Year == year && s.Claims.Any(c => c.PayerId == coverage.PayerId)), PaidByPayer(coverage.PayerId, year));

    public void Apply(CopayAssistanceRecorded e)
    {
        CopayAssistance.Add(e);
        LastChangedAt = e.RecordedAt;
    }

    /// <summary>The coverage's end date as recorded, before any change or end cut it short (a replay of the recording compares with it).</summary>
    public DateOnly? RecordedActiveTo(CoverageRecorded coverage) =>
        // An end can precede a change of the same coverage, never follow it (a replaced coverage is ended through its successor).
        CoverageEnds.Where(c => c.CoverageId == coverage.CoverageId).Select(c => (Found: true, c.PreviousActiveTo))
            .Concat(CoverageChanges.Where(c => c.CoverageId == coverage.CoverageId).Select(c => (Found: true, c.PreviousActiveTo)))
            .FirstOrDefault() is { Found: true } first ? first.PreviousActiveTo : coverage.ActiveTo;

    /// <summary>The change that replaced this coverage's terms, if any: a replaced coverage is changed or ended through its successor.</summary>
    public CoverageChanged? ReplacedBy(Guid coverageId) => CoverageChanges.FirstOrDefault(c => c.CoverageId == coverageId);

    public void Apply(VisitScheduled e)
    {
        Visits.Add(new ScheduledVisit { VisitId = e.VisitId, On = e.On, Time = e.Time, Purpose = e.Purpose, ScheduledAt = e.ScheduledAt });
        LastChangedAt = e.ScheduledAt;
    }

    public void Apply(VisitCancelled e)
    {
        var visit = Visits.First(v => v.VisitId == e.VisitId);
        visit.CancelledAt = e.CancelledAt;
        visit.CancelReason = e.Reason;
        LastChangedAt = e.CancelledAt;
    }

    public void Apply(EligibilityChecked e)
    {
        EligibilityChecks.Add(e);
        LastChangedAt = e.RecordedAt;
    }

    /// <summary>The latest eligibility answer for the coverage (by the day the payer gave it), if any.</summary>
    public EligibilityChecked? LatestEligibility(Guid coverageId) =>
        EligibilityChecks.Where(c => c.CoverageId == coverageId).OrderBy(c => c.CheckedOn).ThenBy(c => c.RecordedAt).LastOrDefault();

    /// <summary>The insurance coverages (not copay-assistance programs) active on a day, primary first.</summary>
    public IEnumerable<CoverageRecorded> InsuranceOn(DateOnly day) => Coverages.Where(c => c.ActiveOn(day)).OrderBy(c => c.Priority);

    public void Apply(GoodFaithEstimateIssued e)
    {
        Estimates.Add(e);
        LastChangedAt = e.IssuedAt;
    }

    public void Apply(PlacedWithCollectionAgency e)
    {
        Move(e.Moves);
        Placements.Add(new CollectionPlacement
        {
            PlacementId = e.PlacementId, AgencyId = e.AgencyId, AgencyName = e.AgencyName, CommissionPercent = e.CommissionPercent, PlacedOn = e.PlacedOn,
            Placed = e.Total, Fingerprint = e.Fingerprint
        });
        LastChangedAt = e.PlacedAt;
    }

    public void Apply(CollectionAgencyRecovered e)
    {
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Open.Collections -= a.Amount;
            // The patient paid it, through the agency.
            line.PatientPaid += a.Amount;
        }

        var placement = Placements.First(p => p.PlacementId == e.PlacementId);
        placement.Collected += e.Collected;
        placement.Commission += e.Commission;
        placement.Recoveries.Add(e);
        TotalPaid += e.Collected;
        LastChangedAt = e.RecordedAt;
    }

    public void Apply(RecalledFromCollectionAgency e)
    {
        Move(e.Moves);
        var placement = Placements.First(p => p.PlacementId == e.PlacementId);
        placement.Recalled = e.Total;
        placement.RecalledAt = e.RecalledAt;
        placement.RecallReason = e.Reason;
        LastChangedAt = e.RecalledAt;
    }

    public void Apply(BadDebtReinstated e)
    {
        foreach (var a in e.Allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Adjusted -= a.Amount;
            line.AdjustedBy.BadDebt -= a.Amount;
            line.Open.Patient += a.Amount;
            TotalAdjusted -= a.Amount;
        }

        Reinstatements.Add(e);
        LastChangedAt = e.ReinstatedAt;
    }

    public void Apply(NoShowFeeCharged e)
    {
        var line = new AccountLine { LineNumber = 1, Code = e.Code, Description = e.Description, Units = 1, UnitPrice = e.Amount, Charge = e.Amount };
        line.Open.Patient = e.Amount;
        Sessions.Add(new AccountSession
        {
            SessionId = e.NoShowId,
            DeliveredOn = e.MissedOn,
            LocationId = "",
            Funding = [FundingSource.SelfPay],
            NoShow = e,
            // As a session would have been recorded: a session id that repeats the fee's is compared with it and refused.
            Delivered = new SessionDelivered(e.PatientId, e.NoShowId, e.MissedOn, 0, "", [new ChargeLine(1, e.Code, e.Description, 1, e.Amount, e.Amount)], [],
                e.Amount, e.ChargedAt),
            Lines = [line]
        });
        TotalCharged += e.Amount;
        LastChangedAt = e.ChargedAt;
    }

    /// <summary>Applies any account event: for folding raw events (ledger, statements, demo data, tests).</summary>
    public static PatientAccount Advance(PatientAccount? account, object e)
    {
        if (e is PatientRegistered registered)
        {
            return Create(registered);
        }

        var a = account ?? throw new InvalidOperationException($"{e.GetType().Name} before PatientRegistered");
        switch (e)
        {
            case PatientDetailsCorrected x: a.Apply(x); break;
            case PatientAddressChanged x: a.Apply(x); break;
            case SessionDelivered x: a.Apply(x); break;
            case SessionVoided x: a.Apply(x); break;
            case TreatmentSeriesPlanned x: a.Apply(x); break;
            case PaymentReceived x: a.Apply(x); break;
            case PaymentApplied x: a.Apply(x); break;
            case PaymentUnapplied x: a.Apply(x); break;
            case PaymentReversed x: a.Apply(x); break;
            case RefundIssued x: a.Apply(x); break;
            case DiscountGranted x: a.Apply(x); break;
            case BalanceWrittenOff x: a.Apply(x); break;
            case PaymentPlanAgreed x: a.Apply(x); break;
            case LetterOfMedicalNecessityRecorded x: a.Apply(x); break;
            case GoodFaithEstimateIssued x: a.Apply(x); break;
            case CoverageRecorded x: a.Apply(x); break;
            case CoverageChanged x: a.Apply(x); break;
            case CoverageEnded x: a.Apply(x); break;
            case CopayAssistanceRecorded x: a.Apply(x); break;
            case CoverageBenefitsSet x: a.Apply(x); break;
            case VisitScheduled x: a.Apply(x); break;
            case VisitCancelled x: a.Apply(x); break;
            case EligibilityChecked x: a.Apply(x); break;
            case SessionAuthorizationChecked x: a.Apply(x); break;
            case SessionsClaimed x: a.Apply(x); break;
            case SessionsReleasedFromClaim x: a.Apply(x); break;
            case InsurancePaymentPosted x: a.Apply(x); break;
            case InsurancePaymentReversed x: a.Apply(x); break;
            case InsuranceOverpaid x: a.Apply(x); break;
            case InsuranceOverpaymentCleared x: a.Apply(x); break;
            case OutOfNetworkReimbursementReported x: a.Apply(x); break;
            case ResponsibilityMoved x: a.Apply(x); break;
            case ThirdPartyPaymentApplied x: a.Apply(x); break;
            case ThirdPartyAdjusted x: a.Apply(x); break;
            case PlacedWithCollectionAgency x: a.Apply(x); break;
            case CollectionAgencyRecovered x: a.Apply(x); break;
            case RecalledFromCollectionAgency x: a.Apply(x); break;
            case BadDebtReinstated x: a.Apply(x); break;
            case NoShowFeeCharged x: a.Apply(x); break;
            default: throw new InvalidOperationException($"{e.GetType().Name} is not an account event");
        }

        return a;
    }

    private void Adjust(IEnumerable<LineAmount> allocations, AdjustmentKind kind)
    {
        foreach (var a in allocations)
        {
            var line = Line(a.SessionId, a.LineNumber)!;
            line.Open.Patient -= a.Amount;
            line.Adjusted += a.Amount;
            line.AdjustedBy[kind] += a.Amount;
            TotalAdjusted += a.Amount;
        }
    }
}
