using System.Text.Json.Serialization;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

// The patient account stream (one per patient): every charge, payment and adjustment of one patient.
// It guards: a session is charged once; money is applied only to open patient amounts; refunds never
// exceed unapplied credit; a voided session takes nothing more.

/// <summary>Who is expected to pay for a session. Later areas resolve each source into a party's share.</summary>
public enum FundingSource
{
    [JsonStringEnumMemberName("self-pay")] SelfPay,
    [JsonStringEnumMemberName("insurance")] Insurance,
    [JsonStringEnumMemberName("employer")] Employer,
    [JsonStringEnumMemberName("grant")] Grant,
    [JsonStringEnumMemberName("study")] Study
}

public enum PaymentMethod
{
    [JsonStringEnumMemberName("card")] Card,
    [JsonStringEnumMemberName("cash")] Cash,
    [JsonStringEnumMemberName("check")] Check,
    [JsonStringEnumMemberName("fsa")] Fsa,
    [JsonStringEnumMemberName("hsa")] Hsa
}

public enum WriteOffReason
{
    [JsonStringEnumMemberName("small-balance")] SmallBalance,
    [JsonStringEnumMemberName("bad-debt")] BadDebt,
    [JsonStringEnumMemberName("charity")] Charity
}

public enum DiscountBasis
{
    /// <summary>The code's cash price is below its list price: granted automatically on a self-pay session.</summary>
    [JsonStringEnumMemberName("cash-price")] CashPrice,
    [JsonStringEnumMemberName("per-session")] PerSession,
    [JsonStringEnumMemberName("series-package")] SeriesPackage,
    [JsonStringEnumMemberName("sliding-scale")] SlidingScale
}

public enum DiscountKind
{
    [JsonStringEnumMemberName("percentage")] Percentage,
    [JsonStringEnumMemberName("amount")] Amount
}

public record PostalAddress(string Line1, string? Line2, string City, string State, string PostalCode);

/// <param name="Sex">As claims need it (X12 DMG03): F, M or U (unknown).</param>
public record PatientRegistered(
    Guid PatientId, string FirstName, string LastName, DateOnly DateOfBirth, string? Email, string? Phone, DateTimeOffset RegisteredAt,
    PostalAddress? Address = null, string? Sex = null);

/// <summary>The patient's name, date of birth, sex, email or phone were corrected (issue 21): the new values, all of them.</summary>
/// <param name="ChangeId">The client-made idempotency key of the correction (shared with a <see cref="PatientAddressChanged"/> of the same request).</param>
/// <param name="Fingerprint">The request's fingerprint: a replay must match it.</param>
public record PatientDetailsCorrected(
    Guid PatientId, Guid ChangeId, string FirstName, string LastName, DateOnly DateOfBirth, string Sex, string? Email, string? Phone,
    DateTimeOffset CorrectedAt, string Fingerprint);

/// <summary>The patient's postal address was set, changed or removed (null).</summary>
public record PatientAddressChanged(Guid PatientId, Guid ChangeId, PostalAddress? Address, DateTimeOffset ChangedAt, string Fingerprint);

/// <param name="ResponsibleParty">Who owes the charge until another event moves it: insurance when the funding
/// includes insurance, the sponsor when it includes a study, else the patient (employer and grant shares are
/// moved by their own areas).</param>
/// <param name="PlaceOfService">The CMS place of service code claims print (the session's, else its location's); null on sessions
/// recorded before it was kept, and where no location is set up: claims print 11, office.</param>
public record SessionDelivered(
    Guid PatientId,
    Guid SessionId,
    DateOnly DeliveredOn,
    int DurationMinutes,
    string LocationId,
    IReadOnlyList<ChargeLine> Lines,
    IReadOnlyList<string> DiagnosisCodes,
    decimal TotalCharge,
    DateTimeOffset RecordedAt,
    string? ProviderId = null,
    IReadOnlyList<FundingSource>? Funding = null,
    Guid? SeriesId = null,
    int? SeriesSessionNumber = null,
    ResponsibleParty ResponsibleParty = ResponsibleParty.Patient,
    bool Booster = false,
    string? PlaceOfService = null);

/// <summary>The charge is cancelled: its open amounts close, its adjustments lapse, money applied to it
/// returns to credit (recorded by the PaymentUnapplied events that accompany this one).</summary>
public record SessionVoided(Guid PatientId, Guid SessionId, string Reason, decimal ChargeReversed, decimal AdjustmentsReversed, DateTimeOffset VoidedAt);

public record TreatmentSeriesPlanned(Guid PatientId, Guid SeriesId, string Description, int PlannedSessions, DateOnly PlannedOn, DateTimeOffset PlannedAt);

/// <param name="Fingerprint">The recording request's fingerprint: a replay must match it.</param>
/// <param name="Processor">The card processor that took it ("stripe"): its money reaches the bank in the processor's payouts, net of
/// fees, not in the day's card takings.</param>
public record PaymentReceived(
    Guid PatientId, Guid PaymentId, PaymentMethod Method, decimal Amount, DateOnly ReceivedOn, string? Reference, DateTimeOffset RecordedAt,
    string? Fingerprint = null, string? Processor = null);

/// <param name="ApplicationId">When credit is applied later by request: that request's idempotency key.</param>
public record PaymentApplied(
    Guid PatientId, Guid PaymentId, IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset AppliedAt, Guid? ApplicationId = null,
    string? Fingerprint = null);

public record PaymentUnapplied(Guid PatientId, Guid PaymentId, IReadOnlyList<LineAmount> Allocations, decimal Total, string Reason, DateTimeOffset UnappliedAt);

/// <summary>The payment did not stand (bounced check, card chargeback): it no longer counts as paid.
/// Its applications were undone first (PaymentUnapplied).</summary>
public record PaymentReversed(Guid PatientId, Guid PaymentId, decimal Amount, string Reason, DateOnly ReversedOn, DateTimeOffset RecordedAt);

public record PaymentSource(Guid PaymentId, decimal Amount);

public record RefundIssued(
    Guid PatientId, Guid RefundId, decimal Amount, PaymentMethod Method, string Reason, IReadOnlyList<PaymentSource> Sources, DateTimeOffset IssuedAt);

public record DiscountGranted(
    Guid PatientId, Guid DiscountId, DiscountBasis Basis, DiscountKind Kind, decimal Value, string? IncomeBand, string Reason,
    IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset GrantedAt, string? Fingerprint = null);

public record BalanceWrittenOff(
    Guid PatientId, Guid WriteOffId, WriteOffReason Reason, string? Note, IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset WrittenOffAt,
    string? Fingerprint = null);

public record Instalment(int Number, DateOnly DueOn, decimal Amount);

public record PaymentPlanAgreed(Guid PatientId, Guid PlanId, IReadOnlyList<Instalment> Instalments, decimal Total, DateOnly AgreedOn, DateTimeOffset AgreedAt);

public record LetterOfMedicalNecessityRecorded(
    Guid PatientId, Guid LetterId, string Condition, string Treatment, string Frequency, DateOnly ValidFrom, DateOnly ValidTo, string ProviderId,
    DateTimeOffset RecordedAt);

public record EstimateLine(string Code, string Description, int Units, decimal UnitPrice, decimal Amount);

/// <summary>
/// A Good Faith Estimate for a self-pay or uninsured patient (No Surprises Act, 45 CFR 149.610): the series' expected items at
/// the self-pay price. A series' charges $400 or more above its latest estimate are flagged (PPDR, 45 CFR 149.620).
/// </summary>
/// <param name="DiagnosisCodes">The ICD-10-CM codes known when it was issued.</param>
/// <param name="ProviderId">The provider expected to furnish the services (from the providers list).</param>
/// <param name="ServiceFrom">The first expected date of service; <paramref name="ServiceTo"/> the last.</param>
/// <param name="Description">The primary service in plain words.</param>
public record GoodFaithEstimateIssued(
    Guid PatientId, Guid EstimateId, Guid SeriesId, IReadOnlyList<EstimateLine> Lines, decimal Total, DateOnly IssuedOn, DateTimeOffset IssuedAt,
    IReadOnlyList<string>? DiagnosisCodes = null, string? ProviderId = null, DateOnly? ServiceFrom = null, DateOnly? ServiceTo = null, string? Description = null);

public enum CoveragePriority
{
    [JsonStringEnumMemberName("primary")] Primary,
    [JsonStringEnumMemberName("secondary")] Secondary
}

/// <summary>The person who holds the policy, when it is not the patient.</summary>
public record Subscriber(string FirstName, string LastName, DateOnly? DateOfBirth, string Relationship);

/// <param name="PayerId">The payer document's id.</param>
/// <param name="CoinsurancePercent">The patient's share after the deductible, as known (e.g. 20).</param>
/// <param name="AnnualMaximum">The most the payer pays in a calendar year of service (a copay-assistance program's annual
/// maximum): beyond it no claim goes to it and the patient owes.</param>
/// <param name="SessionsPerYear">The plan's limit on sessions a calendar year (set by <see cref="CoverageBenefitsSet"/>).</param>
/// <param name="DollarMaximum">The plan's limit on what it pays a calendar year for these services (set by <see cref="CoverageBenefitsSet"/>).</param>
/// <param name="DrugBenefit">How Spravato reaches the patient under this coverage: medical-buy-and-bill, medical-specialty-pharmacy or pharmacy.</param>
public record CoverageRecorded(
    Guid PatientId, Guid CoverageId, Guid PayerId, string MemberId, string? GroupNumber, Subscriber? Subscriber, CoveragePriority Priority,
    decimal? Copay, decimal? CoinsurancePercent, decimal? Deductible, DateOnly ActiveFrom, DateOnly? ActiveTo, DateTimeOffset RecordedAt,
    decimal? AnnualMaximum = null, int? SessionsPerYear = null, decimal? DollarMaximum = null, string? DrugBenefit = null)
{
    public bool ActiveOn(DateOnly date) => ActiveFrom <= date && (ActiveTo is null || date <= ActiveTo);
}

/// <summary>
/// The coverage's terms changed from <paramref name="EffectiveFrom"/> (a new card, another member id, primary became
/// secondary, new copay): the coverage ends the day before and <paramref name="NewCoverageId"/> carries the new terms from
/// that day, with the same payer, subscriber and end date. Claims for dates of service from then on use the new one.
/// </summary>
/// <param name="ChangeId">Made by the client: the idempotency key.</param>
/// <param name="PreviousActiveTo">The coverage's end date before this change (null: open).</param>
/// <param name="Fingerprint">The request's fingerprint: a replay must match it.</param>
public record CoverageChanged(
    Guid PatientId, Guid CoverageId, Guid ChangeId, Guid NewCoverageId, DateOnly EffectiveFrom, string MemberId, string? GroupNumber,
    CoveragePriority Priority, decimal? Copay, decimal? CoinsurancePercent, decimal? Deductible, DateOnly? PreviousActiveTo, DateTimeOffset ChangedAt,
    string Fingerprint);

/// <summary>
/// The coverage's benefit limits and drug benefit path, as the clinic learned them (the 271, the plan's documents, a call): they
/// replace what was set before. Limits count by calendar year of service.
/// </summary>
/// <param name="DrugBenefit">medical-buy-and-bill (the clinic buys Spravato and bills it), medical-specialty-pharmacy (a
/// specialty pharmacy bills the medical benefit) or pharmacy (the pharmacy benefit pays the drug); null: not known.</param>
public record CoverageBenefitsSet(
    Guid PatientId, Guid CoverageId, int? SessionsPerYear, decimal? DollarMaximum, string? DrugBenefit, DateTimeOffset SetAt);

/// <summary>The coverage ended: <paramref name="EndedOn"/> is its last day. Dates of service after it are not claimed to it.</summary>
/// <param name="PreviousActiveTo">The coverage's end date before (null: open).</param>
public record CoverageEnded(Guid PatientId, Guid CoverageId, DateOnly EndedOn, string Reason, DateOnly? PreviousActiveTo, DateTimeOffset EndedAt);

/// <summary>
/// The patient is enrolled in a drug maker's copay-assistance program (e.g. for Spravato). With a payer, it is billed as a
/// secondary payer after the primary, up to its annual maximum (ADR 0021); without one, it is recorded as data.
/// </summary>
/// <param name="ProgramId">Made by the client: the idempotency key.</param>
/// <param name="MemberId">The member or card id the program issued.</param>
/// <param name="PayerId">The payer the program's claims go to (its X12 id, usually of kind copay-assistance); null: not billed.</param>
public record CopayAssistanceRecorded(
    Guid PatientId, Guid ProgramId, string ProgramName, string MemberId, decimal AnnualMaximum, DateOnly ActiveFrom, DateOnly? ActiveTo,
    DateTimeOffset RecordedAt, Guid? PayerId = null)
{
    /// <summary>The program as the secondary coverage its claims are filed under (its id is the program's).</summary>
    public CoverageRecorded? AsCoverage() => PayerId is { } payer
        ? new CoverageRecorded(PatientId, ProgramId, payer, MemberId, null, null, CoveragePriority.Secondary, null, null, null, ActiveFrom, ActiveTo, RecordedAt,
            AnnualMaximum)
        : null;
}

/// <summary>A visit on the clinic's schedule: the day the patient is expected (eligibility is checked before it).</summary>
/// <param name="VisitId">Made by the client: the idempotency key.</param>
/// <param name="Time">The time of day as the schedule shows it (HH:mm), when known.</param>
/// <param name="Purpose">What the visit is for (an infusion, a Spravato session, a consult).</param>
public record VisitScheduled(Guid PatientId, Guid VisitId, DateOnly On, string? Time, string Purpose, DateTimeOffset ScheduledAt);

/// <summary>The visit will not happen: it leaves the schedule and the eligibility worklist.</summary>
public record VisitCancelled(Guid PatientId, Guid VisitId, string Reason, DateTimeOffset CancelledAt);

/// <summary>
/// A payer's eligibility answer (a 271) for one of the patient's coverages: what billing read from it, kept with the day it
/// was given. Made by the Eligibility area through <see cref="EligibilityOnAccount"/>; an answer older than
/// <see cref="EligibilityOnAccount.CurrentDays"/> days is stale.
/// </summary>
/// <param name="CheckId">The answer's id, made from the file's sender, control number and place: the same file again is no new answer.</param>
/// <param name="CheckedOn">The day the payer answered (the 271's BHT date).</param>
/// <param name="ServiceDate">The day asked about (the 270's DTP*291), when known.</param>
/// <param name="Source">"271 {sender}/{control number}".</param>
/// <param name="Trace">The 270's trace the answer echoes (TRN*2), when it does.</param>
public record EligibilityChecked(
    Guid PatientId, Guid CoverageId, Guid CheckId, DateOnly CheckedOn, DateOnly? ServiceDate, string Source, string? Trace,
    Eligibility.EligibilitySummary Answer, DateOnly? PlanBegin, DateOnly? PlanEnd, DateTimeOffset RecordedAt);

/// <summary>
/// The outcome of matching an insured session to the patient's prior authorizations (a cascade from the
/// session's delivery): which authorization it uses, and whether the payer will deny it for that reason.
/// </summary>
public record SessionAuthorizationChecked(
    Guid PatientId, Guid SessionId, Guid? AuthorizationId, string? AuthorizationNumber,
    AuthorizationFlag Flag, DateTimeOffset CheckedAt, Guid? AuthorizationPayerId = null);

/// <summary>An open amount moved from one party to another (a claim filed, insurance naming patient responsibility).</summary>

/// <summary>Sessions went on a claim to a payer: each is on at most one open claim per payer.</summary>
public record SessionsClaimed(Guid PatientId, Guid ClaimId, Guid PayerId, IReadOnlyList<Guid> SessionIds, IReadOnlyList<ResponsibilityMove> Moves, DateTimeOffset ClaimedAt);

/// <summary>The claim was rejected or closed without payment: its sessions may go on another claim.</summary>
public record SessionsReleasedFromClaim(Guid PatientId, Guid ClaimId, IReadOnlyList<Guid> SessionIds, string Reason, DateTimeOffset ReleasedAt);

/// <summary>What one remittance line did to one charge line.</summary>
/// <param name="InsuranceReduced">How much left the insurance's open amount (paid, written off, moved to the patient).</param>
/// <param name="Contractual">CO/OA/PI adjustments written off (none on a denied line: a denial stays open for appeal).</param>
/// <param name="PatientResponsibility">PR (deductible, coinsurance, copay) moved to the patient.</param>
public record InsuranceLinePosting(Guid SessionId, int LineNumber, decimal Paid, decimal Contractual, decimal PatientResponsibility, decimal InsuranceReduced, bool Denied);

/// <summary>A payer's adjudication of a claim was posted to the account (from an 835 or a paper EOB).</summary>
public record InsurancePaymentPosted(
    Guid PatientId, Guid ClaimId, Guid PayerId, string Source, IReadOnlyList<InsuranceLinePosting> Lines, decimal Paid, DateTimeOffset PostedAt);

/// <summary>
/// The payer paid more on a claim than insurance owed on its lines (a duplicate payment, a payment after the line was settled):
/// the excess is insurance credit on the claim, money owed back to the payer until refunded or recovered (ADR 0021).
/// </summary>
/// <param name="Source">The posting it came with (an 835 trace and item, or an EOB).</param>
public record InsuranceOverpaid(Guid PatientId, Guid ClaimId, Guid PayerId, string Source, decimal Amount, DateTimeOffset OverpaidAt);

/// <summary>
/// Insurance credit on a claim cleared: refunded to the payer by check, or recovered by the payer in a later 835 (PLB WO).
/// </summary>
/// <param name="ClearingId">The refund's id (made by the client) or the recovery's (the 835 trace and its PLB item).</param>
/// <param name="How">refund (a check to the payer) or recovery (the payer kept it from a later payment).</param>
/// <param name="Reference">The check number, or the 835 trace.</param>
public record InsuranceOverpaymentCleared(
    Guid PatientId, Guid ClaimId, Guid PayerId, Guid ClearingId, string How, string Reference, decimal Amount, DateOnly ClearedOn, DateTimeOffset ClearedAt);

/// <summary>The payer reversed an adjudication (CLP02 = 22): the posting it names is undone exactly.</summary>
public record InsurancePaymentReversed(
    Guid PatientId, Guid ClaimId, Guid PayerId, string Source, string ReversedSource, IReadOnlyList<InsuranceLinePosting> Lines, decimal Paid,
    DateTimeOffset ReversedAt);

/// <summary>Out of network: what the patient says their insurer reimbursed them for sessions they paid (payer trends only).</summary>
public record OutOfNetworkReimbursementReported(
    Guid PatientId, Guid ReimbursementId, Guid PayerId, decimal Amount, DateOnly ReceivedOn, IReadOnlyList<Guid> SessionIds, DateTimeOffset ReportedAt);

/// <summary>Open amounts moved between parties (an employer covers part of a session, the rest is the patient's).</summary>
public record ResponsibilityMoved(Guid PatientId, IReadOnlyList<ResponsibilityMove> Moves, string Reason, DateTimeOffset MovedAt);

/// <summary>An employer, grant or sponsor paid toward these lines (the payment itself lives on that party's stream).</summary>
public record ThirdPartyPaymentApplied(
    Guid PatientId, ResponsibleParty Party, Guid SourceId, string Reference, IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset AppliedAt);

/// <summary>Part of what a third party owes was adjusted off by agreement (a study's contracted rate below the charge).</summary>
public record ThirdPartyAdjusted(
    Guid PatientId, ResponsibleParty Party, string Reason, IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset AdjustedAt);

/// <summary>
/// The patient's open balance was placed with a collection agency (after the final notice): it moves from the patient to the
/// agency's party in aging, and the agency's terms as of today go with it.
/// </summary>
/// <param name="PlacementId">Made by the client: the idempotency key.</param>
/// <param name="CommissionPercent">What the agency keeps of what it collects, as agreed when placed.</param>
/// <param name="Fingerprint">The request's fingerprint: a replay must match it.</param>
public record PlacedWithCollectionAgency(
    Guid PatientId, Guid PlacementId, Guid AgencyId, string AgencyName, decimal CommissionPercent, IReadOnlyList<ResponsibilityMove> Moves, decimal Total,
    DateOnly PlacedOn, DateTimeOffset PlacedAt, string Fingerprint);

/// <summary>
/// The agency collected <paramref name="Collected"/> from the patient on a placed balance and remitted it less its commission:
/// the patient's debt falls by what was collected, the clinic's cash is <paramref name="Net"/>, the commission is an expense.
/// </summary>
/// <param name="RecoveryId">Made by the client: the idempotency key.</param>
public record CollectionAgencyRecovered(
    Guid PatientId, Guid PlacementId, Guid RecoveryId, Guid AgencyId, decimal Collected, decimal Commission, decimal Net, DateOnly ReceivedOn,
    string? Reference, IReadOnlyList<LineAmount> Allocations, DateTimeOffset RecordedAt, string Fingerprint);

/// <summary>The placement ended (the agency returned the account, or the clinic took it back): what it still held is the patient's again.</summary>
public record RecalledFromCollectionAgency(
    Guid PatientId, Guid PlacementId, Guid AgencyId, IReadOnlyList<ResponsibilityMove> Moves, decimal Total, string Reason, DateTimeOffset RecalledAt);

/// <summary>
/// Money came in on a balance written off as bad debt: that much of the write-off is reinstated on its lines, and the payment of
/// the same id (recorded with it) pays them. The books show a bad-debt recovery, not a second write-off reversal by hand.
/// </summary>
/// <param name="RecoveryId">The client-made idempotency key, and the id of the payment that pays the reinstated lines.</param>
/// <param name="ReceivedOn">The day the recovered money came (the payment of the same id's): the day the journal posts it. Null on events before it was kept.</param>
public record BadDebtReinstated(
    Guid PatientId, Guid RecoveryId, IReadOnlyList<LineAmount> Allocations, decimal Total, DateTimeOffset ReinstatedAt, DateOnly? ReceivedOn = null);

/// <summary>
/// A missed appointment was charged at the clinic's set price (the fee schedule's <paramref name="Code"/> on the missed day): a
/// charge of its own on the account, owed by the patient, never claimed to insurance.
/// </summary>
/// <param name="NoShowId">Made by the client: the idempotency key; the charge's id on the account.</param>
public record NoShowFeeCharged(
    Guid PatientId, Guid NoShowId, DateOnly MissedOn, string Code, string Description, decimal Amount, string? Note, DateTimeOffset ChargedAt,
    string Fingerprint);
