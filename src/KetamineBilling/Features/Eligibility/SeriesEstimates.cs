using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Studies;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Money = KetamineBilling.Features.Ledger.Money;

namespace KetamineBilling.Features.Eligibility;

/// <summary>A figure with how far it may go: the expected value between the lowest and highest the payer's answers allow.</summary>
public sealed record EstimateRange(decimal Low, decimal Expected, decimal High)
{
    public static EstimateRange Exactly(decimal value) => new(value, value, value);
    public static EstimateRange operator +(EstimateRange a, EstimateRange b) => new(a.Low + b.Low, a.Expected + b.Expected, a.High + b.High);
    public EstimateRange Times(int n) => new(Low * n, Expected * n, High * n);

    /// <summary>As people read it: "$948.00 ($912.00 to $984.00)", or the one figure when there is no range.</summary>
    public override string ToString() => Low == High ? Fmt.Money(Expected) : $"{Fmt.Money(Expected)} ({Fmt.Money(Low)} to {Fmt.Money(High)})";
}

/// <summary>What a payer allows for one unit of a code: its contracted rate, or what it allowed on this clinic's claims (the range and median), or nothing known.</summary>
/// <param name="Basis">contracted, observed or charge (no payment seen: the charge stands in, the most the plan's terms could leave the patient).</param>
public sealed record AllowedRate(string Code, EstimateRange PerUnit, string Basis, int Observations);

/// <summary>One line of each session under insurance: the clinic's charge and what the payer is expected to allow.</summary>
public sealed record InsuranceLineEstimate(string Code, string Description, int Units, decimal Charge, EstimateRange Allowed, string Basis, int Observations);

/// <summary>The series under the patient's insurance.</summary>
/// <param name="CoveredSessions">Sessions the plan's limits leave room for; the rest are the patient's at the cash price.</param>
/// <param name="AuthorizedSessions">Sessions an approved prior authorization has left for the payer (null: none on file).</param>
/// <param name="CopayProgram">What the drug maker's copay-assistance program may pay of the patient's share (its annual maximum left).</param>
/// <param name="Confidence">high (contracted rates and a current answer), medium (observed payments and a current answer) or low.</param>
public sealed record InsuranceEstimate(
    Guid CoverageId, Guid PayerId, string Payer, string? Plan, bool? Active, DateOnly? CheckedOn, bool Stale, IReadOnlyList<InsuranceLineEstimate> Lines,
    int CoveredSessions, int? AuthorizedSessions, bool? AuthorizationRequired, decimal? DeductibleLeft, decimal? OutOfPocketLeft, decimal? Coinsurance,
    decimal? Copay, EstimateRange Allowed, EstimateRange PlanPays, EstimateRange PatientPays, decimal CopayProgram, EstimateRange PatientAfterProgram,
    string Confidence, IReadOnlyList<string> Notes);

/// <summary>The series paid by the patient: each line at the cash price where the fee schedule has one, and the sliding-scale bands.</summary>
/// <param name="Package">The clinic's package price for the whole series, when it offers one.</param>
/// <param name="Best">What the patient pays without insurance: the package when it is lower than the cash total.</param>
public sealed record SelfPayEstimate(
    IReadOnlyList<EstimateLine> Lines, decimal ListTotal, decimal Total, IReadOnlyList<SlidingScaleTotal> SlidingScale, decimal? Package = null, decimal? Best = null);

public sealed record SlidingScaleTotal(string Band, decimal Percent, decimal Total);

/// <summary>What an employer, a grant or a study would cover of the series at the clinic's charges, and what it would leave the patient.</summary>
public sealed record SponsorEstimate(string Kind, string Name, decimal Covers, decimal PatientPays, string Detail);

/// <param name="Cheaper">insurance, self-pay or same; null when there is no insurance to compare.</param>
/// <param name="Difference">How much less the cheaper way costs the patient (expected figures).</param>
public sealed record SeriesEstimate(
    string Description, int Sessions, DateOnly FirstOn, DateOnly LastOn, IReadOnlyList<string> DiagnosisCodes, InsuranceEstimate? Insurance, SelfPayEstimate SelfPay,
    IReadOnlyList<SponsorEstimate> Sponsors, string? Cheaper, decimal Difference, string Advice);

/// <summary>A planned series to estimate: how many sessions, what each is billed with, from which day and how often.</summary>
/// <param name="PackagePrice">A package price the clinic offers for the whole series, if any (compared with the cash total).</param>
public sealed record SeriesPlan(
    string Description, int Sessions, IReadOnlyList<EstimateLineInput> Lines, DateOnly FirstOn, int IntervalDays, Guid? CoverageId, decimal? PackagePrice = null);

/// <summary>
/// What a planned series will cost the patient, under their insurance and without it (docs/estimates.md): a pure calculation
/// over the account, the fee schedule, the payer's rates and the sponsors, so the same inputs always give the same figures.
/// </summary>
public static class SeriesEstimates
{
    /// <summary>How many of the payer's latest claims are read for what it allowed.</summary>
    public const int ObservedClaims = 500;

    /// <summary>
    /// What the payer allows per unit of each code: its contracted rate; else what it allowed per unit on this clinic's paid lines
    /// (lowest, median, highest); else the clinic's charge.
    /// </summary>
    public static AllowedRate Rate(string code, Payer payer, IEnumerable<Claim> claims, decimal charge)
    {
        if (payer.ContractedRates.TryGetValue(code, out var contracted)) return new AllowedRate(code, EstimateRange.Exactly(contracted), "contracted", 0);
        var seen = claims.Where(c => c.PayerId == payer.Id && !c.Superseded)
            .SelectMany(c => c.Adjudications.SelectMany(a => a.Lines).Join(c.Lines, a => a.LineNumber, l => l.LineNumber, (a, l) => (Adjudicated: a, Line: l)))
            .Where(x => x.Line.Code == code && x.Adjudicated.Allowed > 0 && x.Line.Units > 0)
            .Select(x => Money.Round(x.Adjudicated.Allowed / x.Line.Units)).OrderBy(v => v).ToList();
        if (seen.Count == 0) return new AllowedRate(code, EstimateRange.Exactly(charge), "charge", 0);
        var median = seen.Count % 2 == 1 ? seen[seen.Count / 2] : Money.Round((seen[seen.Count / 2 - 1] + seen[seen.Count / 2]) / 2m);
        return new AllowedRate(code, new EstimateRange(seen[0], median, seen[^1]), "observed", seen.Count);
    }

    public static SeriesEstimate Estimate(
        PatientAccount account, SeriesPlan plan, FeeSchedule schedule, Func<Guid, Payer?> payerOf, IReadOnlyList<Claim> payerClaims,
        IReadOnlyList<PriorAuthorization> authorizations, IReadOnlyList<EmployerAgreement> employers, IReadOnlyList<Grant> grants, IReadOnlyList<Study> studies,
        DateOnly today)
    {
        var lastOn = plan.FirstOn.AddDays(plan.IntervalDays * (plan.Sessions - 1));
        var priced = plan.Lines.Select(l =>
        {
            var code = l.Code!.Trim().ToUpperInvariant();
            var price = schedule.PriceOn(code, plan.FirstOn)!;
            return (Code: code, price.Description, l.Units, Unit: price.Price, Cash: price.CashPrice ?? price.Price);
        }).ToList();
        var chargePerSession = priced.Sum(p => p.Unit * p.Units);
        var cashPerSession = priced.Sum(p => p.Cash * p.Units);

        var cashLines = priced.Select(p => new EstimateLine(p.Code, p.Description, p.Units * plan.Sessions, p.Cash, p.Cash * p.Units * plan.Sessions)).ToList();
        var cashTotal = cashLines.Sum(l => l.Amount);
        var best = plan.PackagePrice is { } package && package < cashTotal ? package : cashTotal;
        var selfPay = new SelfPayEstimate(cashLines, chargePerSession * plan.Sessions, cashTotal,
            SlidingScale.Bands.Select(b => new SlidingScaleTotal(b.Key, b.Value, Money.Round(cashTotal * (100m - b.Value) / 100m))).ToList(), plan.PackagePrice, best);
        var cashWay = best < cashTotal ? $"the package price, {Fmt.Money(best)}" : $"the cash price, {Fmt.Money(cashTotal)}";

        var coverage = plan.CoverageId is { } id ? account.Coverages.FirstOrDefault(c => c.CoverageId == id) : account.InsuranceOn(plan.FirstOn).FirstOrDefault();
        var insurance = coverage is not null && payerOf(coverage.PayerId) is { } payer
            ? Insurance(account, plan, coverage, payer, priced.Select(p => (p.Code, p.Description, p.Units, p.Unit)).ToList(), cashPerSession, payerClaims,
                authorizations, today)
            : null;

        var sponsors = Sponsors(account, plan, priced.Select((p, i) => new ChargeLine(i + 1, p.Code, p.Description, p.Units, p.Unit, p.Unit * p.Units)).ToList(),
            employers, grants, studies);

        string? cheaper = null;
        var difference = 0m;
        string advice;
        if (insurance is null)
        {
            advice = $"No insurance is on file for {Fmt.Date(plan.FirstOn)}: the patient pays {cashWay}.";
        }
        else
        {
            var viaInsurance = insurance.PatientAfterProgram.Expected;
            difference = Math.Abs(viaInsurance - best);
            cheaper = viaInsurance < best ? "insurance" : viaInsurance > best ? "self-pay" : "same";
            advice = cheaper switch
            {
                "insurance" => $"Insurance is cheaper for the patient by about {Fmt.Money(difference)}: {Fmt.Money(viaInsurance)} expected (between {Fmt.Money(insurance.PatientAfterProgram.Low)} and {Fmt.Money(insurance.PatientAfterProgram.High)}) against {cashWay}.",
                "self-pay" => $"Paying the clinic directly is cheaper for the patient by about {Fmt.Money(difference)}: {cashWay}, against {Fmt.Money(viaInsurance)} expected under insurance (between {Fmt.Money(insurance.PatientAfterProgram.Low)} and {Fmt.Money(insurance.PatientAfterProgram.High)}).",
                _ => $"Both ways cost the patient about {Fmt.Money(best)}."
            };
            if (cheaper == "insurance" && insurance.PatientAfterProgram.High > best)
                advice += " The payer's payments varied: at the top of its range insurance would cost more than cash.";
        }

        var diagnoses = account.Sessions.Where(s => !s.Voided).OrderByDescending(s => s.DeliveredOn).SelectMany(s => s.DiagnosisCodes).Distinct().Take(4).ToList();
        return new SeriesEstimate(plan.Description, plan.Sessions, plan.FirstOn, lastOn, diagnoses, insurance, selfPay, sponsors, cheaper, difference, advice);
    }

    private static InsuranceEstimate Insurance(
        PatientAccount account, SeriesPlan plan, CoverageRecorded coverage, Payer payer, IReadOnlyList<(string Code, string Description, int Units, decimal Unit)> lines,
        decimal cashPerSession, IReadOnlyList<Claim> payerClaims, IReadOnlyList<PriorAuthorization> authorizations, DateOnly today)
    {
        var notes = new List<string>();
        // The figures come from the latest answer that said active or inactive: a refusal since (AAA) says nothing of the plan.
        var latest = account.EligibilityChecks.Where(c => c.CoverageId == coverage.CoverageId && c.Answer.Active is not null)
            .OrderBy(c => c.CheckedOn).ThenBy(c => c.RecordedAt).LastOrDefault();
        if (account.LatestEligibility(coverage.CoverageId) is { Answer.Active: null } refused && refused != latest)
            notes.Add($"The payer did not answer the inquiry of {Fmt.Date(refused.CheckedOn)}{(refused.Answer.Rejections.Count > 0 ? $" ({refused.Answer.Rejections[0]})" : "")}.");
        var stale = latest is not null && EligibilityOnAccount.Stale(latest, today);
        var answer = latest?.Answer;
        if (latest is null) notes.Add("The payer has not answered for this coverage: the deductible, coinsurance and copay are as recorded on it. Check eligibility first.");
        else if (stale) notes.Add($"The payer's last answer is from {Fmt.Date(latest.CheckedOn)}, more than {EligibilityOnAccount.CurrentDays} days ago: check eligibility again.");
        if (answer?.Active == false) notes.Add("The payer's answer says the coverage is inactive: the plan would pay nothing.");

        var estimated = lines.Select(l =>
        {
            var rate = Rate(l.Code, payer, payerClaims, l.Unit);
            return new InsuranceLineEstimate(l.Code, l.Description, l.Units, l.Unit * l.Units, rate.PerUnit.Times(l.Units), rate.Basis, rate.Observations);
        }).ToList();
        foreach (var line in estimated.Where(l => l.Basis == "charge"))
            notes.Add($"{payer.Name} has paid no {line.Code} line yet and no contracted rate is on file: its charge stands in for what it allows (the most the plan's terms could leave the patient).");
        var perSession = estimated.Aggregate(EstimateRange.Exactly(0m), (sum, l) => sum + l.Allowed);

        // What remains is the answer's for its own plan year (taken as the calendar year); a later year starts whole.
        var answerYear = latest?.CheckedOn.Year;
        var yearDeductible = answer?.Deductible?.Year ?? coverage.Deductible;
        var yearOutOfPocket = answer?.OutOfPocket?.Year;
        var deductibleLeft = answerYear == plan.FirstOn.Year ? answer?.Deductible?.Remaining ?? yearDeductible : yearDeductible;
        var outOfPocketLeft = answerYear == plan.FirstOn.Year ? answer?.OutOfPocket?.Remaining ?? yearOutOfPocket : yearOutOfPocket;
        var coinsurance = answer?.Coinsurance ?? coverage.CoinsurancePercent;
        var copay = answer?.Copay ?? coverage.Copay;
        var days = Enumerable.Range(0, plan.Sessions).Select(i => plan.FirstOn.AddDays(plan.IntervalDays * i)).ToList();
        var benefits = days.Select(d => d.Year).Distinct().ToDictionary(y => y, y => CoverageBenefits.Of(account, coverage, y));

        // A drug maker's copay program pays the patient's share of its drug's sessions only, and never beside Medicare,
        // Medicaid or other government coverage (the programs' own terms, under the federal anti-kickback statute).
        var spravato = lines.Any(l => SpravatoCoding.IsSpravatoCode(l.Code));
        var government = payer.Kind is PayerKind.Medicare or PayerKind.Medicaid or PayerKind.TricareVa;
        var programs = spravato && !government
            ? account.CopayAssistance.Where(p => p.ActiveFrom <= plan.FirstOn && (p.ActiveTo is null || p.ActiveTo >= plan.FirstOn)).ToList()
            : [];
        decimal ProgramLeft(int year) => programs.Sum(p => Math.Max(0m, p.AnnualMaximum - (p.PayerId is { } programPayer ? account.PaidByPayer(programPayer, year) : 0m)));
        if (account.CopayAssistance.Count > 0 && programs.Count == 0)
            notes.Add(government ? "The copay-assistance program on file cannot be used with government coverage." : "The copay-assistance program on file pays for its drug only: not for this series.");

        (decimal Patient, decimal Plan, decimal Program, int Covered) Run(Func<EstimateRange, decimal> pick)
        {
            int? year = null;
            decimal? deductible = null, outOfPocket = null, dollars = null;
            int? sessionsLeft = null;
            decimal programLeft = 0m, patient = 0m, paid = 0m, program = 0m;
            var covered = 0;
            foreach (var day in days)
            {
                if (day.Year != year)
                {
                    var first = year is null;
                    year = day.Year;
                    (deductible, outOfPocket) = first ? (deductibleLeft, outOfPocketLeft) : (yearDeductible, yearOutOfPocket);
                    (sessionsLeft, dollars) = (benefits[day.Year].SessionsLeft, benefits[day.Year].DollarsLeft);
                    programLeft = ProgramLeft(day.Year);
                }

                if (answer?.Active == false || sessionsLeft is <= 0)
                {
                    patient += cashPerSession;
                    continue;
                }

                sessionsLeft--;
                covered++;
                var allowed = pick(perSession);
                var fromDeductible = Math.Min(allowed, deductible ?? 0m);
                deductible = deductible is null ? null : deductible - fromDeductible;
                var rest = allowed - fromDeductible;
                var fromCoinsurance = Money.Round(rest * (coinsurance ?? 0m) / 100m);
                var fromCopay = Math.Min(copay ?? 0m, rest - fromCoinsurance);
                var share = Math.Min(allowed, fromDeductible + fromCoinsurance + fromCopay);
                if (outOfPocket is { } oop)
                {
                    share = Math.Min(share, oop);
                    outOfPocket = oop - share;
                }

                var pays = allowed - share;
                if (dollars is { } maximum)
                {
                    pays = Math.Min(pays, maximum);
                    dollars = maximum - pays;
                }

                var fromProgram = Math.Min(programLeft, allowed - pays);
                programLeft -= fromProgram;
                program += fromProgram;
                patient += allowed - pays;
                paid += pays;
            }

            return (patient, paid, program, covered);
        }

        var (low, expected, high) = (Run(r => r.Low), Run(r => r.Expected), Run(r => r.High));
        var covered = expected.Covered;
        if (covered < plan.Sessions && answer?.Active != false)
            notes.Add($"The plan's session limit leaves {plan.Sessions - covered} of the {plan.Sessions} session(s) to the patient at the cash price ({string.Join(", ", benefits.Values.Where(b => b.SessionsPerYear is not null).Select(b => $"{b.Year}: {b.SessionsPerYear} a year, {b.SessionsUsed} used"))}).");
        if (days[^1].Year != plan.FirstOn.Year)
            notes.Add($"The series runs into {days[^1].Year}: the deductible and out-of-pocket maximum start again then.");
        var patientPays = new EstimateRange(low.Patient, expected.Patient, high.Patient);
        var planPays = new EstimateRange(low.Plan, expected.Plan, high.Plan);
        var allowedTotal = perSession.Times(covered);

        var approved = authorizations.Where(a => a.PayerId == coverage.PayerId && a.Status == AuthorizationStatus.Approved && a.ValidTo >= plan.FirstOn
                                                 && a.Covers(lines.Select(l => l.Code))).ToList();
        int? authorized = approved.Count > 0 ? approved.Sum(a => a.Remaining) : null;
        var authorizationRequired = answer?.AuthorizationRequired;
        if (authorizationRequired == true && (authorized ?? 0) < covered)
            notes.Add($"The payer requires authorization and {(authorized ?? 0)} authorized session(s) are left: request or extend it before the series, or the payer will deny the rest.");

        if (programs.Count > 0)
            notes.Add($"{string.Join(", ", programs.Select(p => p.ProgramName))} may pay up to {Fmt.Money(ProgramLeft(plan.FirstOn.Year))} of the patient's share this year.");
        var afterProgram = new EstimateRange(low.Patient - low.Program, expected.Patient - expected.Program, high.Patient - high.Program);

        var confidence = latest is null || stale || answer?.Active != true ? "low"
            : estimated.All(l => l.Basis == "contracted") ? "high"
            : estimated.All(l => l.Basis != "charge") ? "medium" : "low";
        return new InsuranceEstimate(coverage.CoverageId, payer.Id, payer.Name, answer?.Plan, answer?.Active, latest?.CheckedOn, stale, estimated, covered, authorized,
            authorizationRequired, deductibleLeft, outOfPocketLeft, coinsurance, copay, allowedTotal, planPays, patientPays, expected.Program, afterProgram, confidence, notes);
    }

    /// <summary>Each employer, grant and study that would fund the patient's sessions: what it would cover of the series at the clinic's charges.</summary>
    private static List<SponsorEstimate> Sponsors(
        PatientAccount account, SeriesPlan plan, IReadOnlyList<ChargeLine> lines, IReadOnlyList<EmployerAgreement> employers, IReadOnlyList<Grant> grants,
        IReadOnlyList<Study> studies)
    {
        var charges = lines.Sum(l => l.Amount) * plan.Sessions;
        var sponsors = new List<SponsorEstimate>();
        var days = Enumerable.Range(0, plan.Sessions).Select(i => plan.FirstOn.AddDays(plan.IntervalDays * i)).ToList();
        foreach (var employer in employers.Where(e => e.Enrollments.Any(n => n.PatientId == account.Id && (n.EndedOn is null || n.EndedOn >= plan.FirstOn))))
        {
            // Each planned session committed in turn on a copy, so the caps count the series' own sessions.
            var copy = Snapshot.Copy(employer);
            var covers = 0m;
            string? cappedBy = null;
            foreach (var day in days)
            {
                var (amount, committed, capped) = DirectPayRules.Share(copy, account.Id, day.Year, lines);
                copy.Commitments.Add(new Commitment { SessionId = Guid.NewGuid(), PatientId = account.Id, DeliveredOn = day, PlanYear = day.Year, Amount = amount, Lines = [.. committed] });
                covers += amount;
                cappedBy ??= capped;
            }

            sponsors.Add(new SponsorEstimate("employer", employer.Name, covers, charges - covers,
                cappedBy is null ? "the employer's agreed share of each session" : $"the employer's share, cut by its {cappedBy} cap for the plan year"));
        }

        foreach (var grant in grants.Where(g => g.PatientId == account.Id && g.ValidTo >= plan.FirstOn))
        {
            var copy = Snapshot.Copy(grant);
            decimal covers = 0m, reduced = 0m;
            foreach (var day in days.Where(d => d >= grant.ValidFrom && d <= grant.ValidTo))
            {
                if (copy.RemainingSessions is <= 0 || copy.RemainingAmount is <= 0) break;
                var (cut, amount, _) = GrantRules.Split(copy, day, lines.Sum(l => l.Amount));
                copy.Uses.Add(new GrantUse(Guid.NewGuid(), day, amount, cut, 0m));
                covers += amount;
                reduced += cut;
            }

            sponsors.Add(new SponsorEstimate("grant", grant.Organization, covers, charges - covers - reduced,
                reduced > 0 ? $"the grant's share after the clinic's fee-sharing reduction of {Fmt.Money(reduced)}" : "the grant's share within its award"));
        }

        foreach (var study in studies.Where(s => s.SubjectPatientIds.Contains(account.Id)))
        {
            var covers = Math.Min(study.PerSessionAmount, lines.Sum(l => l.Amount)) * plan.Sessions;
            sponsors.Add(new SponsorEstimate("study", $"{study.Sponsor} ({study.ProtocolId})", covers, charges - covers, "the sponsor's amount per study session"));
        }

        return sponsors;
    }
}
