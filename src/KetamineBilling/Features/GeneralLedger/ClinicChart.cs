using Marten;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>The clinic gave one of the platform's accounts its own number and name (those of its accounting package).</summary>
public record ChartAccountSet(Guid ChartId, GlAccount Account, string Number, string Name, DateTimeOffset SetAt);

/// <summary>
/// A clinic's chart of accounts: the numbers and names it set, over the default mapping (<see cref="ChartOfAccounts.Default"/>)
/// for the rest. The journal posts to the platform's accounts; every view and export names them as the clinic's chart does now.
/// </summary>
public sealed class ClinicChart
{
    public static readonly Guid StreamId = new("c4a27f03-58e1-4b6d-9d2a-7e0f1b3c5a88");

    public Guid Id { get; set; }
    public int Version { get; set; }

    /// <summary>The accounts the clinic set, by the platform's account (its enum name).</summary>
    public Dictionary<string, ChartName> Set { get; set; } = new(StringComparer.Ordinal);

    public static ClinicChart Create(ChartAccountSet e) => new ClinicChart { Id = e.ChartId }.With(e);

    public void Apply(ChartAccountSet e) => With(e);

    private ClinicChart With(ChartAccountSet e)
    {
        Set[e.Account.ToString()] = new ChartName(e.Number, e.Name);
        return this;
    }

    /// <summary>Every account, the clinic's number and name where it set them, else the default's.</summary>
    public static IReadOnlyList<ChartAccount> Accounts(ClinicChart? chart) => ChartOfAccounts.Default
        .Select(a => chart?.Set.GetValueOrDefault(a.Account.ToString()) is { } own ? a with { Number = own.Number, Name = own.Name } : a)
        .ToList();

    public static async Task<Chart> LoadAsync(IQuerySession session, CancellationToken ct) =>
        new(Accounts(await session.LoadAsync<ClinicChart>(StreamId, ct)));
}

public sealed record ChartName(string Number, string Name);

/// <summary>A clinic's chart as the queries read it: in the default's order, and by account.</summary>
public sealed class Chart(IReadOnlyList<ChartAccount> accounts)
{
    public static readonly Chart Default = new(ChartOfAccounts.Default);

    public IReadOnlyList<ChartAccount> Accounts { get; } = accounts;

    private readonly Dictionary<GlAccount, ChartAccount> _byAccount = accounts.ToDictionary(a => a.Account);

    public ChartAccount this[GlAccount account] => _byAccount[account];
}
