using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Ui;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <param name="Modifiers">Up to four two-character modifiers (25, 59, 95, JZ...), in billing order.</param>
/// <param name="Drug">The drug given, as claims identify it: its NDC, and the quantity in the NDC's unit.</param>
public record SessionLineInput(string Code, int Units, IReadOnlyList<string>? Modifiers = null, DrugInput? Drug = null);

/// <param name="Ndc">As printed on the package (0409-2051-01) or as 11 digits.</param>
/// <param name="Quantity">How much was given, in <paramref name="Unit"/> (not the HCPCS billing units).</param>
/// <param name="Unit">UN unit, ML millilitre, GR gram, ME milligram, F2 international unit.</param>
public record DrugInput(string? Ndc, decimal? Quantity, string? Unit);

/// <summary>A session with insurance in its funding was charged: prior authorizations count it.</summary>
public record InsuredSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<string> Codes);

/// <param name="SessionId">Made by the client: the idempotency key of the charge.</param>
/// <param name="Funding">Who is expected to pay: "self-pay" (the default), "insurance", "employer", "grant",
/// "study", or a list of them for a mix.</param>
/// <param name="SeriesId">The treatment series (planned on the account) this session belongs to.</param>
/// <param name="Booster">A booster (after or outside a series); left out, false.</param>
/// <param name="PlaceOfService">The CMS place of service code where the patient was (10 telehealth at home, 02 telehealth
/// elsewhere...); left out, the location's.</param>
public record DeliverSession(
    Guid SessionId,
    DateOnly? DeliveredOn,
    int DurationMinutes,
    string LocationId,
    IReadOnlyList<SessionLineInput>? Lines,
    IReadOnlyList<string>? DiagnosisCodes,
    string? ProviderId = null,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(StringOrListConverter))] IReadOnlyList<string>? Funding = null,
    Guid? SeriesId = null,
    bool? Booster = null,
    string? PlaceOfService = null);

public record SessionCharge(
    Guid PatientId,
    Guid SessionId,
    DateOnly DeliveredOn,
    int DurationMinutes,
    string LocationId,
    string? ProviderId,
    IReadOnlyList<FundingSource> Funding,
    ResponsibleParty ResponsibleParty,
    Guid? SeriesId,
    int? SeriesSessionNumber,
    IReadOnlyList<ChargeLine> Lines,
    IReadOnlyList<string> DiagnosisCodes,
    decimal TotalCharge,
    decimal Discount)
{
    public static SessionCharge From(SessionDelivered e, decimal discount) =>
        new(e.PatientId, e.SessionId, e.DeliveredOn, e.DurationMinutes, e.LocationId, e.ProviderId, e.Funding ?? [FundingSource.SelfPay],
            e.ResponsibleParty, e.SeriesId, e.SeriesSessionNumber, e.Lines, e.DiagnosisCodes, e.TotalCharge, discount);

    public static SessionCharge From(AccountSession s) =>
        From(s.Delivered, s.Lines.Sum(l => l.Adjusted));
}

public static partial class DeliverSessionEndpoint
{
    public const int MaxLines = 20;

    // ICD-10-CM: a letter, two characters, then an optional dot and up to four more (e.g. F33.2, F43.10).
    [GeneratedRegex(@"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")]
    private static partial Regex Icd10();

    /// <summary>Whether the text is an ICD-10-CM code as claims carry it (F33.2, F43.10), case and spaces aside.</summary>
    public static bool IsIcd10(string? code) => code is not null && Icd10().IsMatch(code.Trim().ToUpperInvariant());

    public static ProblemDetails Validate(DeliverSession command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.SessionId == Guid.Empty)
        {
            problems.Add("sessionId", "is required: a client-made id that makes the charge idempotent");
        }

        if (command.DeliveredOn is not { } on)
        {
            problems.Add("deliveredOn", "is required (yyyy-MM-dd)");
        }
        else if (on > calendar.Today())
        {
            problems.Add("deliveredOn", "must not be in the future");
        }
        else if (on.Year < 2000)
        {
            problems.Add("deliveredOn", "must be on or after 2000-01-01");
        }

        if (command.DurationMinutes is < 1 or > 720)
        {
            problems.Add("durationMinutes", "must be between 1 and 720");
        }

        problems.RequireText("locationId", command.LocationId, 64);
        if (command.PlaceOfService is { } pos && !Locations.PlaceOfService.Codes.ContainsKey(pos.Trim()))
        {
            problems.Add("placeOfService", $"must be a place of service code: {string.Join(", ", Locations.PlaceOfService.Codes.Keys)}");
        }

        problems.RequireText("providerId", command.ProviderId, 40);
        ParseFunding(command.Funding, problems);

        if (command.Lines is not { Count: > 0 } lines)
        {
            problems.Add("lines", "must hold at least one line");
        }
        else if (lines.Count > MaxLines)
        {
            problems.Add("lines", $"must hold at most {MaxLines} lines");
        }
        else
        {
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i] is null)
                {
                    problems.Add($"lines[{i}]", "is required: {code, units}");
                    continue;
                }

                if (string.IsNullOrWhiteSpace(lines[i].Code))
                {
                    problems.Add($"lines[{i}].code", "is required");
                }

                if (lines[i].Units is < 1 or > 99)
                {
                    problems.Add($"lines[{i}].units", "must be a whole number from 1 to 99");
                }

                LineCoding.Modifiers(lines[i].Modifiers, $"lines[{i}].modifiers", problems);
                if (lines[i].Drug is { } drug) LineCoding.Drug(drug.Ndc, drug.Quantity, drug.Unit, $"lines[{i}].drug", problems);
            }
        }

        if (command.DiagnosisCodes is not { Count: > 0 } diagnoses)
        {
            problems.Add("diagnosisCodes", "must hold at least one ICD-10-CM code");
        }
        else if (diagnoses.Count > 12)
        {
            // An 837P claim carries at most twelve diagnosis pointers (HI segment).
            problems.Add("diagnosisCodes", "must hold at most 12 codes");
        }
        else
        {
            for (var i = 0; i < diagnoses.Count; i++)
            {
                if (diagnoses[i] is null || !Icd10().IsMatch(diagnoses[i].Trim().ToUpperInvariant()))
                {
                    problems.Add($"diagnosisCodes[{i}]", "must be an ICD-10-CM code such as F33.2");
                }
            }
        }

        return problems.ToProblemDetails();
    }

    public static List<FundingSource> ParseFunding(IReadOnlyList<string>? funding, ValidationProblems problems)
    {
        if (funding is not { Count: > 0 })
        {
            return [FundingSource.SelfPay];
        }

        var sources = new List<FundingSource>();
        for (var i = 0; i < funding.Count; i++)
        {
            if (ApiEnum.Parse<FundingSource>(problems, $"funding[{i}]", funding[i]) is { } source && !sources.Contains(source))
            {
                sources.Add(source);
            }
        }

        return sources;
    }

    /// <summary>
    /// Who owes the charge at first: the first third party in the plan, in the order they pay (insurance, then a
    /// study sponsor, an employer, a grant); the patient only when no one else is named. Each area then moves
    /// what its payer does not cover to the next party.
    /// </summary>
    public static ResponsibleParty FirstParty(IReadOnlyList<FundingSource> funding) =>
        funding.Contains(FundingSource.Insurance) ? ResponsibleParty.Insurance
        : funding.Contains(FundingSource.Study) ? ResponsibleParty.Sponsor
        : funding.Contains(FundingSource.Employer) ? ResponsibleParty.Employer
        : funding.Contains(FundingSource.Grant) ? ResponsibleParty.Grant
        : ResponsibleParty.Patient;

    public static async Task<(FeeSchedule?, SessionOwner?, Provider?, ClinicLocations?, Books?)> LoadAsync(
        DeliverSession command, IQuerySession session, CancellationToken ct)
    {
        var schedule = await session.LoadAsync<FeeSchedule>(FeeSchedule.StreamId, ct);
        var owner = await session.LoadAsync<SessionOwner>(command.SessionId, ct);
        var provider = string.IsNullOrWhiteSpace(command.ProviderId) ? null : await session.LoadAsync<Provider>(command.ProviderId.Trim(), ct);
        var locations = await session.LoadAsync<ClinicLocations>(ClinicLocations.StreamId, ct);
        return (schedule, owner, provider, locations, await Books.LoadAsync(session, ct));
    }

    /// <summary>
    /// The decision: a new charge (the session, with its cash-price discount when self-pay, and the messages other areas
    /// act on), a replay of one already made, or a refusal.
    /// </summary>
    public static Outcome Decide(
        PatientAccount patient, DeliverSession command, FeeSchedule? schedule, SessionOwner? owner, Provider? provider, DateTimeOffset now,
        ClinicLocations? locations = null)
    {
        if (owner is not null && owner.PatientId != patient.Id)
        {
            return Outcome.Conflict($"session {command.SessionId} is already charged to another patient");
        }

        var deliveredOn = command.DeliveredOn!.Value;
        var problems = new ValidationProblems();
        if (provider is null)
        {
            problems.Add("providerId", $"{command.ProviderId} is not a provider of the clinic (PUT /api/providers/{{id}} adds one)");
        }

        // Once the clinic has set up its locations (PUT /api/locations/{id}), a new session is recorded only at one of them that
        // is active. A clinic with none set up yet records the id as given (sessions named their location before locations existed).
        // A replay of a session recorded before its location was deactivated stays a replay.
        var placeOfService = command.PlaceOfService?.Trim();
        if (locations?.Locations.GetValueOrDefault(command.LocationId.Trim()) is { } named) placeOfService ??= named.PlaceOfService;
        if (locations is { Locations.Count: > 0 } && patient.Session(command.SessionId) is null)
        {
            var locationId = command.LocationId.Trim();
            if (!locations.Locations.TryGetValue(locationId, out var location))
            {
                problems.Add("locationId", $"{locationId} is not a location of the clinic (PUT /api/locations/{{id}} adds one)");
            }
            else if (!location.Active)
            {
                problems.Add("locationId", $"{location.Name} is deactivated: no new session can be recorded there");
            }
        }

        var series = command.SeriesId is { } seriesId ? patient.Series.FirstOrDefault(s => s.SeriesId == seriesId) : null;
        if (command.SeriesId is not null && series is null)
        {
            problems.Add("seriesId", "is not a treatment series planned on this account");
        }

        var funding = ParseFunding(command.Funding, problems);
        var lines = new List<ChargeLine>();
        var cashDiscounts = new List<LineAmount>();
        for (var i = 0; i < command.Lines!.Count; i++)
        {
            var input = command.Lines[i];
            var code = input.Code.Trim().ToUpperInvariant();
            if (code == ChargeNoShowFeeEndpoint.Code)
            {
                problems.Add($"lines[{i}].code", $"{code} is the missed-appointment fee, not care given: charge it as a missed appointment (no-show fees)");
                continue;
            }

            var price = schedule?.PriceOn(code, deliveredOn);
            if (price is null)
            {
                problems.Add($"lines[{i}].code", schedule?.Knows(code) == true
                    ? $"{code} has no price in the fee schedule on {Fmt.Date(deliveredOn)}"
                    : $"{code} is not in the fee schedule");
                continue;
            }

            var modifiers = LineCoding.Modifiers(input.Modifiers, $"lines[{i}].modifiers", problems);
            var drug = input.Drug is { } d ? LineCoding.Drug(d.Ndc, d.Quantity, d.Unit, $"lines[{i}].drug", problems) : null;
            lines.Add(new ChargeLine(i + 1, code, price.Description, input.Units, price.Price, price.Price * input.Units, modifiers.Count > 0 ? modifiers : null, drug));
            if (price.CashPrice is { } cash && cash < price.Price)
            {
                cashDiscounts.Add(new LineAmount(command.SessionId, i + 1, (price.Price - cash) * input.Units));
            }
        }

        if (problems.Any)
        {
            return Outcome.Reject(problems);
        }

        var charged = new SessionDelivered(
            patient.Id, command.SessionId, deliveredOn, command.DurationMinutes, command.LocationId.Trim(),
            lines,
            command.DiagnosisCodes!.Select(d => d.Trim().ToUpperInvariant()).ToList(),
            lines.Sum(l => l.Amount),
            now,
            provider!.Id,
            funding,
            series?.SeriesId,
            // Numbered by delivery: a voided session keeps its number, so numbers never repeat.
            series is null ? null : patient.Sessions.Count(s => s.SeriesId == series.SeriesId) + 1,
            FirstParty(funding),
            command.Booster == true,
            placeOfService);

        if (patient.Session(command.SessionId) is { } existing)
        {
            // Same key: a replay when it says the same thing, a conflict when it says something else.
            // Prices are compared too, so a price change between the two calls is not taken for a replay.
            // A replay that names no place of service takes the one recorded (the location's may have changed since).
            return SameCharge(existing.Delivered, command.PlaceOfService is null ? charged with { PlaceOfService = existing.Delivered.PlaceOfService } : charged)
                ? Outcome.Replay(SessionCharge.From(existing))
                : Outcome.Conflict($"session {command.SessionId} was already recorded with other content");
        }

        // A self-pay session pays the cash price: the gap to the list price is a discount, recorded as such so
        // charges stay comparable across payers and the patient's statement shows the saving.
        var selfPayOnly = funding is [FundingSource.SelfPay];
        var discount = selfPayOnly && cashDiscounts.Count > 0
            ? new DiscountGranted(patient.Id, DeterministicGuid.From(command.SessionId, "cash-price"), DiscountBasis.CashPrice, DiscountKind.Amount,
                cashDiscounts.Sum(d => d.Amount), null, "Self-pay cash price", cashDiscounts, cashDiscounts.Sum(d => d.Amount), now)
            : null;
        return Outcome.Created($"/api/patients/{patient.Id}/sessions/{charged.SessionId}", SessionCharge.From(charged, discount?.Total ?? 0m))
            .Append(patient.Id, charged, discount)
            .Send(Cascades(charged));
    }

    /// <summary>What other areas must do about a new charge, sent durably with the charge's own transaction.</summary>
    public static List<object> Cascades(SessionDelivered e)
    {
        var messages = new List<object>();
        if (e.Funding?.Contains(FundingSource.Insurance) == true)
        {
            messages.Add(new InsuredSessionDelivered(e.PatientId, e.SessionId, e.DeliveredOn, e.Lines.Select(l => l.Code).ToList()));
        }

        if (e.ResponsibleParty == ResponsibleParty.Sponsor)
        {
            messages.Add(new KetamineBilling.Features.Studies.StudyFundedSessionDelivered(e.PatientId, e.SessionId, e.DeliveredOn, e.Lines));
        }

        if (e.ResponsibleParty == ResponsibleParty.Grant)
        {
            messages.Add(new KetamineBilling.Features.Grants.GrantFundedSessionDelivered(e.PatientId, e.SessionId, e.DeliveredOn, e.Lines));
        }

        if (e.ResponsibleParty == ResponsibleParty.Employer)
        {
            messages.Add(new KetamineBilling.Features.Employers.EmployerFundedSessionDelivered(e.PatientId, e.SessionId, e.DeliveredOn, e.Lines));
        }

        return messages;
    }

    private static bool SameCharge(SessionDelivered a, SessionDelivered b) =>
        a.DeliveredOn == b.DeliveredOn
        && a.DurationMinutes == b.DurationMinutes
        && a.LocationId == b.LocationId
        && a.ProviderId == b.ProviderId
        && a.SeriesId == b.SeriesId
        && a.Booster == b.Booster
        && a.PlaceOfService == b.PlaceOfService
        && (a.Funding ?? [FundingSource.SelfPay]).SequenceEqual(b.Funding ?? [FundingSource.SelfPay])
        && a.Lines.SequenceEqual(b.Lines)
        && a.DiagnosisCodes.SequenceEqual(b.DiagnosisCodes);

    [WolverinePost("/api/patients/{patientId}/sessions"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static (IResult, Events, OutgoingMessages) Post(
        DeliverSession command,
        [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount patient,
        FeeSchedule? schedule,
        SessionOwner? owner,
        Provider? provider,
        ClinicLocations? locations,
        Books? books,
        TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(patient, command, schedule, owner, provider, clock.GetUtcNow(), locations), books, command.DeliveredOn, "deliveredOn");
        var events = outcome.EventsFor(patient.Id);
        if (events.FirstOrDefault() is not SessionDelivered charged)
        {
            return (outcome.ToResult(), [], []);
        }

        // The other areas' work on the charge names it as its cause (docs/events.md): its id is chosen here.
        var delivered = FollowUps.Identified(charged);
        var messages = new OutgoingMessages();
        messages.AddRange(outcome.OutgoingMessages);
        return (outcome.ToResult(), [delivered, .. events.Skip(1)], messages.CausedBy(delivered));
    }
}
