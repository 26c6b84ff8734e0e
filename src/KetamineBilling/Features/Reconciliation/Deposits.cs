using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Reconciliation;

/// <summary>Money the clinic received that should reach the bank: one 835 payment, a day's card or cash takings, a third party's payment.</summary>
/// <param name="Key">Stable: kind and source id (a card batch is "card-batch:yyyy-MM-dd").</param>
public sealed record Receipt(string Key, string Kind, string Reference, decimal Amount, DateOnly ReceivedOn);

public sealed record ReceiptMatch(string Key, string Kind, string Reference, decimal Amount);

public record DepositRecorded(Guid DepositId, decimal Amount, DateOnly DepositedOn, string Reference, DateTimeOffset RecordedAt);

/// <summary>The deposit is the sum of these receipts (found automatically when recorded, or named by billing).</summary>
public record DepositMatched(Guid DepositId, IReadOnlyList<ReceiptMatch> Receipts, bool Automatic, DateTimeOffset MatchedAt);

public sealed class BankDeposit
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public decimal Amount { get; set; }
    public DateOnly DepositedOn { get; set; }
    public string Reference { get; set; } = "";
    public List<ReceiptMatch> Receipts { get; set; } = [];
    public bool Automatic { get; set; }
    public DateTimeOffset RecordedAt { get; set; }

    public bool Matched => Receipts.Count > 0;

    public static BankDeposit Create(DepositRecorded e) => new() { Id = e.DepositId, Amount = e.Amount, DepositedOn = e.DepositedOn, Reference = e.Reference, RecordedAt = e.RecordedAt };

    public void Apply(DepositMatched e)
    {
        Receipts = [.. e.Receipts];
        Automatic = e.Automatic;
    }
}

/// <summary>
/// Which deposit a receipt went into. Inserted (never upserted) inline with the match, so two deposits that claim
/// the same receipt at the same moment cannot both be saved: the second fails on the key and is a 409.
/// </summary>
public sealed record DepositedReceipt(string Id, Guid DepositId);

public partial class DepositedReceiptProjection : Marten.Events.Projections.EventProjection
{
    public DepositedReceiptProjection()
    {
        Name = nameof(DepositedReceipt);
        Options.DeleteViewTypeOnTeardown<DepositedReceipt>();
    }

    public void Project(DepositMatched e, IDocumentOperations ops)
    {
        foreach (var receipt in e.Receipts) ops.Insert(new DepositedReceipt(receipt.Key, e.DepositId));
    }
}

public static class Receipts
{
    /// <summary>A card batch settles within this many days of the takings.</summary>
    public const int SettlementDays = 3;

    /// <summary>Every receipt there is, from the current documents.</summary>
    public static async Task<IReadOnlyList<Receipt>> AllAsync(IQuerySession session, CancellationToken ct) =>
        From(await session.Query<Remittance>().ToListAsync(ct), await session.Query<PatientAccount>().ToListAsync(ct),
            await session.Query<EmployerAgreement>().ToListAsync(ct), await session.Query<Grant>().ToListAsync(ct), await session.Query<Study>().ToListAsync(ct));

    /// <summary>Every receipt the given documents hold.</summary>
    public static IReadOnlyList<Receipt> From(
        IEnumerable<Remittance> remittances, IEnumerable<PatientAccount> accounts, IEnumerable<EmployerAgreement> employers, IEnumerable<Grant> grants,
        IEnumerable<Study> studies)
    {
        var receipts = new List<Receipt>();
        foreach (var r in remittances)
        {
            if (r.PaymentAmount > 0) receipts.Add(new Receipt($"remittance:{r.Id}", "remittance", r.TraceNumber, r.PaymentAmount, r.PaymentDate ?? DateOnly.FromDateTime(r.ReceivedAt.UtcDateTime)));
        }

        var payments = accounts.SelectMany(a => a.Payments).Where(p => !p.Reversed).ToList();
        foreach (var day in payments.Where(p => p.Method is PaymentMethod.Card or PaymentMethod.Fsa or PaymentMethod.Hsa).GroupBy(p => p.ReceivedOn))
        {
            receipts.Add(new Receipt($"card-batch:{day.Key:yyyy-MM-dd}", "card-batch", $"card takings {Fmt.Date(day.Key)}", day.Sum(p => p.Amount), day.Key));
        }

        foreach (var day in payments.Where(p => p.Method is PaymentMethod.Cash or PaymentMethod.Check).GroupBy(p => p.ReceivedOn))
        {
            receipts.Add(new Receipt($"cash-check-batch:{day.Key:yyyy-MM-dd}", "cash-check-batch", $"cash and checks {Fmt.Date(day.Key)}", day.Sum(p => p.Amount), day.Key));
        }

        foreach (var e in employers)
        {
            receipts.AddRange(e.Payments.Select(p => new Receipt($"employer-payment:{p.PaymentId}", "employer-payment", $"{e.Name} {p.Reference}", p.Amount, p.ReceivedOn)));
        }

        foreach (var g in grants)
        {
            receipts.AddRange(g.Funds.Select(f => new Receipt($"grant-funds:{g.Id}:{f.Reference}", "grant-funds", $"{g.Organization} {f.Reference}", f.Amount, f.ReceivedOn)));
        }

        foreach (var s in studies)
        {
            receipts.AddRange(s.Payments.Select(p => new Receipt($"sponsor-payment:{s.Id}:{p.Reference}", "sponsor-payment", $"{s.Sponsor} {p.Reference}", p.Amount, p.ReceivedOn)));
        }

        return receipts;
    }

    public static async Task<(IReadOnlyList<Receipt> Open, IReadOnlyList<BankDeposit> Deposits)> OpenAsync(IQuerySession session, CancellationToken ct)
    {
        var deposits = await session.Query<BankDeposit>().ToListAsync(ct);
        return (Undeposited(await AllAsync(session, ct), deposits), deposits);
    }

    /// <summary>The receipts no deposit was matched to.</summary>
    public static IReadOnlyList<Receipt> Undeposited(IEnumerable<Receipt> receipts, IEnumerable<BankDeposit> deposits)
    {
        var matched = deposits.SelectMany(d => d.Receipts).Select(r => r.Key).ToHashSet();
        return receipts.Where(r => !matched.Contains(r.Key)).ToList();
    }

    /// <summary>
    /// The receipts a deposit is, when that is unambiguous: the one whose reference it carries (an 835 trace number,
    /// a check number) for the same amount; else the one card batch of the few days before it for the same amount;
    /// else the one receipt of the week before it for the same amount. Nothing when two would fit.
    /// </summary>
    public static IReadOnlyList<Receipt> AutoMatch(BankDeposit deposit, IReadOnlyList<Receipt> open)
    {
        var sameAmount = open.Where(r => r.Amount == deposit.Amount && r.ReceivedOn <= deposit.DepositedOn).ToList();
        var byReference = sameAmount.Where(r => deposit.Reference.Length > 0 && r.Reference.Contains(deposit.Reference, StringComparison.OrdinalIgnoreCase)).ToList();
        if (byReference.Count == 1) return byReference;
        var cards = sameAmount.Where(r => r.Kind == "card-batch" && deposit.DepositedOn.DayNumber - r.ReceivedOn.DayNumber <= SettlementDays).ToList();
        if (cards.Count == 1) return cards;
        var week = sameAmount.Where(r => deposit.DepositedOn.DayNumber - r.ReceivedOn.DayNumber <= 7).ToList();
        return week.Count == 1 ? week : [];
    }
}

public record RecordDeposit(Guid DepositId, decimal? Amount, DateOnly? DepositedOn, string? Reference);

public record MatchDeposit(IReadOnlyList<string>? ReceiptKeys);

public sealed record DepositView(Guid Id, decimal Amount, DateOnly DepositedOn, string Reference, bool Matched, bool Automatic, IReadOnlyList<ReceiptMatch> Receipts)
{
    public static DepositView From(BankDeposit d) => new(d.Id, d.Amount, d.DepositedOn, d.Reference, d.Matched, d.Automatic, d.Receipts);
}

public sealed record DepositWorkspace(IReadOnlyList<DepositView> UnmatchedDeposits, IReadOnlyList<Receipt> UndepositedReceipts);

public static class RecordDepositEndpoint
{
    public static ProblemDetails Validate(RecordDeposit command)
    {
        var problems = new ValidationProblems();
        if (command.DepositId == Guid.Empty) problems.Add("depositId", "is required: a client-made id");
        if (command.Amount is not > 0) problems.Add("amount", "must be more than zero");
        else if (decimal.Round(command.Amount.Value, 2) != command.Amount) problems.Add("amount", "must have at most two decimals");
        if (command.DepositedOn is null) problems.Add("depositedOn", "is required");
        if (command.Reference is { Length: > 80 }) problems.Add("reference", "must be at most 80 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>Records a bank deposit (idempotent by its id) and matches it to receipts when that is unambiguous.</summary>
    [WolverinePost("/api/deposits"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Post(RecordDeposit command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var recorded = new DepositRecorded(command.DepositId, command.Amount!.Value, command.DepositedOn!.Value, command.Reference?.Trim() ?? "", clock.GetUtcNow());
        if (await session.LoadAsync<BankDeposit>(command.DepositId, ct) is { } existing)
        {
            return existing.Amount == recorded.Amount && existing.DepositedOn == recorded.DepositedOn && existing.Reference == recorded.Reference
                ? Results.Ok(DepositView.From(existing))
                : Problems.Conflict($"deposit {command.DepositId} was already recorded with other details");
        }

        var deposit = BankDeposit.Create(recorded);
        var (open, _) = await Receipts.OpenAsync(session, ct);
        var found = Receipts.AutoMatch(deposit, open);
        session.Events.StartStream<BankDeposit>(deposit.Id, recorded);
        if (found.Count > 0)
        {
            var matched = new DepositMatched(deposit.Id, found.Select(r => new ReceiptMatch(r.Key, r.Kind, r.Reference, r.Amount)).ToList(), true, recorded.RecordedAt);
            session.Events.Append(deposit.Id, matched);
            deposit.Apply(matched);
        }

        return Results.Created($"/api/deposits/{deposit.Id}", DepositView.From(deposit));
    }
}

public static class MatchDepositEndpoint
{
    /// <summary>Names the receipts a deposit is made of: they must be undeposited and add up to it exactly.</summary>
    [WolverinePost("/api/deposits/{depositId}/matches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Post(Guid depositId, MatchDeposit command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (command.ReceiptKeys is not { Count: > 0 } keys) return Problems.Invalid("receiptKeys", "name at least one receipt", StatusCodes.Status400BadRequest);
        var stream = await session.Events.FetchForWriting<BankDeposit>(depositId, ct);
        if (stream.Aggregate is not { } deposit) return Problems.NotFound($"deposit {depositId} does not exist");
        if (deposit.Matched)
        {
            return deposit.Receipts.Select(r => r.Key).Order(StringComparer.Ordinal).SequenceEqual(keys.Distinct().Order(StringComparer.Ordinal))
                ? Results.Ok(DepositView.From(deposit))
                : Problems.Conflict($"deposit {depositId} is already matched to other receipts");
        }

        var (open, _) = await Receipts.OpenAsync(session, ct);
        var chosen = keys.Distinct().Select(k => open.FirstOrDefault(r => r.Key == k)).ToList();
        if (chosen.Any(r => r is null))
        {
            return Problems.Invalid("receiptKeys", $"not an undeposited receipt: {string.Join(", ", keys.Where(k => open.All(r => r.Key != k)))}");
        }

        var total = chosen.Sum(r => r!.Amount);
        if (total != deposit.Amount) return Problems.Invalid("receiptKeys", $"the receipts add up to {Fmt.Money(total)}, the deposit is {Fmt.Money(deposit.Amount)}");
        var matched = new DepositMatched(depositId, chosen.Select(r => new ReceiptMatch(r!.Key, r.Kind, r.Reference, r.Amount)).ToList(), false, clock.GetUtcNow());
        stream.AppendOne(matched);
        deposit.Apply(matched);
        return Results.Ok(DepositView.From(deposit));
    }
}

public static class DepositQueries
{
    /// <summary>Deposits not matched yet and receipts not deposited yet, oldest first.</summary>
    [WolverineGet("/api/deposits/workspace"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<DepositWorkspace> Workspace(IQuerySession session, CancellationToken ct)
    {
        var (open, deposits) = await Receipts.OpenAsync(session, ct);
        return new DepositWorkspace(
            deposits.Where(d => !d.Matched).OrderBy(d => d.DepositedOn).Select(DepositView.From).ToList(),
            open.OrderBy(r => r.ReceivedOn).ThenBy(r => r.Key, StringComparer.Ordinal).ToList());
    }

    [WolverineGet("/api/deposits/{depositId}"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Get(Guid depositId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<BankDeposit>(depositId, ct) is { } d ? Results.Ok(DepositView.From(d)) : Problems.NotFound($"deposit {depositId} does not exist");
}

public static class ReconciliationModule
{
    public static void AddReconciliation(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<BankDeposit>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Projections.Add<DepositedReceiptProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        opts.Schema.For<DepositedReceipt>();
    });
}
