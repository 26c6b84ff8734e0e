using System.Text;
using KetamineBilling.Features.Collections;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Analytics;

/// <summary>Open amounts of one responsible party (one payer, one employer, ...) by age from the date of service.</summary>
public sealed record AgingRow(
    ResponsibleParty? Party, Guid? PartyId, string Name,
    decimal Days0To30, decimal Days31To60, decimal Days61To90, decimal Days91To120, decimal Over120, decimal Total, int Sessions);

/// <summary>
/// Money a patient has paid beyond what they owe: owed back or to be applied, never netted against receivables. A figure
/// without the patient (the report is Finance's, minimum necessary): BillingAdmin finds who on the exceptions worklist
/// (credit-balance items).
/// </summary>
public sealed record CreditBalance(decimal Amount, DateOnly? OldestPaymentOn);

public sealed record ArAgingReport(
    DateOnly AsOf, IReadOnlyList<AgingRow> Rows, IReadOnlyList<AgingRow> ByParty, AgingRow Total,
    IReadOnlyList<CreditBalance> CreditBalances, decimal TotalCredit);

/// <summary>
/// Accounts receivable by who owes them, aged from each session's date of service. Computed from the inline
/// account, employer, grant and study documents on request, so it is always as current as the ledger.
/// </summary>
public static class ArAging
{
    public static readonly string[] Buckets = ["0-30", "31-60", "61-90", "91-120", "over 120"];

    public static int Bucket(int days) => days switch { <= 30 => 0, <= 60 => 1, <= 90 => 2, <= 120 => 3, _ => 4 };

    /// <summary>
    /// The report from the aging read model (<see cref="AgingProjection"/>): the day tallies summed into buckets by the
    /// days from each day of service to <paramref name="asOf"/>, and the accounts with credit. Names are looked up now,
    /// so a renamed payer or employer shows its new name.
    /// </summary>
    public static async Task<ArAgingReport> BuildAsync(IQuerySession session, DateOnly asOf, CancellationToken ct)
    {
        var days = await session.Query<AgingDay>().ToListAsync(ct);
        var credits = (await session.Query<AgingCredit>().ToListAsync(ct)).Select(c => new CreditBalance(c.Amount, c.OldestPaymentOn)).ToList();
        var owners = days.Where(d => d.Party is not (null or ResponsibleParty.Patient) && d.OwnerId is not null).Select(d => d.Party!.Value).ToHashSet();
        var names = await NamesAsync(session, owners, ct);
        var rows = new Dictionary<(ResponsibleParty, Guid?), Accumulator>();
        var sessions = 0;
        foreach (var day in days)
        {
            if (day.Party is not { } party)
            {
                sessions += day.Sessions;
                continue;
            }

            var key = (party, day.OwnerId);
            if (!rows.TryGetValue(key, out var row)) rows[key] = row = new Accumulator(party, day.OwnerId, NameOf(party, day.OwnerId, names));
            row.Add(Bucket(asOf.DayNumber - day.DeliveredOn.DayNumber), day.Open, day.Sessions);
        }

        return Report(asOf, rows.Values, sessions, credits);
    }

    /// <summary>
    /// The same report computed from every account, employer, grant and study document: the definition the read model
    /// must equal (tests compare the two after random work). It reads the whole ledger, so it is never served.
    /// </summary>
    public static async Task<ArAgingReport> FromLedgerAsync(IQuerySession session, DateOnly asOf, CancellationToken ct)
    {
        var accounts = await session.Query<PatientAccount>().ToListAsync(ct);
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        var employerOf = new Dictionary<Guid, (Guid, string)>();
        foreach (var employer in await session.Query<EmployerAgreement>().ToListAsync(ct))
        {
            foreach (var c in employer.Commitments) employerOf[c.SessionId] = (employer.Id, employer.Name);
        }

        var grantOf = new Dictionary<Guid, (Guid, string)>();
        foreach (var grant in await session.Query<Grant>().ToListAsync(ct))
        {
            foreach (var use in grant.Uses) grantOf[use.SessionId] = (grant.Id, grant.Organization);
        }

        var agencies = (await session.Query<CollectionAgency>().ToListAsync(ct)).ToDictionary(a => a.Id, a => a.Name);
        var studyOf = new Dictionary<Guid, (Guid, string)>();
        foreach (var study in await session.Query<Study>().ToListAsync(ct))
        {
            foreach (var s in study.Sessions) studyOf[s.SessionId] = (study.Id, $"{study.Sponsor} ({study.ProtocolId})");
        }

        var rows = new Dictionary<(ResponsibleParty, Guid?), Accumulator>();
        var credits = new List<CreditBalance>();
        var sessions = 0;
        foreach (var account in accounts)
        {
            foreach (var s in account.Sessions.Where(s => !s.Voided))
            {
                var bucket = Bucket(asOf.DayNumber - s.DeliveredOn.DayNumber);
                var any = false;
                foreach (var party in Enum.GetValues<ResponsibleParty>())
                {
                    var open = s.Lines.Sum(l => l.Open[party]);
                    if (open == 0) continue;
                    any = true;
                    var (id, name) = party switch
                    {
                        ResponsibleParty.Patient => ((Guid?)null, "Patients"),
                        ResponsibleParty.Insurance => InsurerOf(account, s) is { } payer
                            ? (payer, payers.GetValueOrDefault(payer, "Unknown payer"))
                            : (null, "Insurance (no payer on file)"),
                        ResponsibleParty.Employer => Named(employerOf, s.SessionId, "Employer (no agreement found)"),
                        ResponsibleParty.Grant => Named(grantOf, s.SessionId, "Grant (no award found)"),
                        ResponsibleParty.Collections => account.ActivePlacement is { } placed
                            ? (placed.AgencyId, agencies.GetValueOrDefault(placed.AgencyId, placed.AgencyName))
                            : (null, "Collection agency (no placement found)"),
                        _ => Named(studyOf, s.SessionId, "Sponsor (no study found)")
                    };
                    if (!rows.TryGetValue((party, id), out var row)) rows[(party, id)] = row = new Accumulator(party, id, name);
                    row.Add(bucket, open, 1);
                }

                if (any) sessions++;
            }

            if (account.UnappliedCredit > 0)
            {
                var oldest = account.Payments.Where(p => p.Unapplied > 0).Select(p => (DateOnly?)p.ReceivedOn).Min();
                credits.Add(new CreditBalance(account.UnappliedCredit, oldest));
            }
        }

        return Report(asOf, rows.Values, sessions, credits);
    }

    private static ArAgingReport Report(DateOnly asOf, IEnumerable<Accumulator> rows, int sessions, List<CreditBalance> credits)
    {
        // Two owners of one name and total (two awards of the same fund) come in the order of their ids: the same every time.
        var list = rows.OrderBy(r => r.Party).ThenByDescending(r => r.Total()).ThenBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Id).ToList();
        var byParty = list.GroupBy(r => r.Party).Select(g => Accumulator.Sum(g, g.Key, null, PartyName(g.Key!.Value)).ToRow()).ToList();
        var total = Accumulator.Sum(list, null, null, "Total").ToRow() with { Sessions = sessions };
        return new ArAgingReport(asOf, list.Select(r => r.ToRow()).ToList(), byParty, total,
            credits.OrderByDescending(c => c.Amount).ThenBy(c => c.OldestPaymentOn).ToList(), credits.Sum(c => c.Amount));
    }

    /// <summary>The names of the owners of the parties given: employers, grants' organizations, studies' sponsor and protocol (only their names are read).</summary>
    private static async Task<Dictionary<Guid, string>> NamesAsync(IQuerySession session, IReadOnlySet<ResponsibleParty> parties, CancellationToken ct)
    {
        var names = new Dictionary<Guid, string>();
        if (parties.Contains(ResponsibleParty.Insurance))
        {
            foreach (var p in await session.Query<Payer>().Select(p => new { p.Id, p.Name }).ToListAsync(ct)) names[p.Id] = p.Name;
        }

        if (parties.Contains(ResponsibleParty.Employer))
        {
            foreach (var e in await session.Query<EmployerAgreement>().Select(e => new { e.Id, e.Name }).ToListAsync(ct)) names[e.Id] = e.Name;
        }

        if (parties.Contains(ResponsibleParty.Grant))
        {
            foreach (var g in await session.Query<Grant>().Select(g => new { g.Id, g.Organization }).ToListAsync(ct)) names[g.Id] = g.Organization;
        }

        if (parties.Contains(ResponsibleParty.Sponsor))
        {
            foreach (var s in await session.Query<Study>().Select(s => new { s.Id, s.Sponsor, s.ProtocolId }).ToListAsync(ct)) names[s.Id] = $"{s.Sponsor} ({s.ProtocolId})";
        }

        if (parties.Contains(ResponsibleParty.Collections))
        {
            foreach (var a in await session.Query<CollectionAgency>().Select(a => new { a.Id, a.Name }).ToListAsync(ct)) names[a.Id] = a.Name;
        }

        return names;
    }

    private static string NameOf(ResponsibleParty party, Guid? owner, Dictionary<Guid, string> names) => party switch
    {
        ResponsibleParty.Patient => "Patients",
        ResponsibleParty.Insurance => owner is { } payer ? names.GetValueOrDefault(payer, "Unknown payer") : "Insurance (no payer on file)",
        ResponsibleParty.Employer => owner is { } e && names.TryGetValue(e, out var employer) ? employer : "Employer (no agreement found)",
        ResponsibleParty.Grant => owner is { } g && names.TryGetValue(g, out var grant) ? grant : "Grant (no award found)",
        ResponsibleParty.Collections => owner is { } c && names.TryGetValue(c, out var agency) ? agency : "Collection agency (no placement found)",
        _ => owner is { } s && names.TryGetValue(s, out var study) ? study : "Sponsor (no study found)"
    };

    /// <summary>The payer the insurance share is owed by: the open claim's payer, else the authorization's, else primary coverage on the date of service.</summary>
    public static Guid? InsurerOf(PatientAccount account, AccountSession s) =>
        s.Claims.LastOrDefault()?.PayerId
        ?? s.AuthorizationPayerId
        ?? account.Coverages.LastOrDefault(c => c.Priority == CoveragePriority.Primary && c.ActiveOn(s.DeliveredOn))?.PayerId;

    private static (Guid?, string) Named(Dictionary<Guid, (Guid Id, string Name)> owners, Guid sessionId, string unknown) =>
        owners.TryGetValue(sessionId, out var owner) ? (owner.Id, owner.Name) : (null, unknown);

    public static string PartyName(ResponsibleParty party) => party switch
    {
        ResponsibleParty.Patient => "Patients",
        ResponsibleParty.Insurance => "Insurance",
        ResponsibleParty.Employer => "Employers",
        ResponsibleParty.Grant => "Grants",
        ResponsibleParty.Collections => "Collection agencies",
        _ => "Study sponsors"
    };

    public static string ToCsv(ArAgingReport report)
    {
        var text = new StringBuilder("as_of,party,party_id,name,days_0_30,days_31_60,days_61_90,days_91_120,over_120,total,sessions\n");
        void Row(AgingRow r, string party) => text.Append(string.Join(',',
            CsvText.Date(report.AsOf), party, r.PartyId?.ToString() ?? "", CsvText.Field(r.Name), CsvText.Money(r.Days0To30), CsvText.Money(r.Days31To60),
            CsvText.Money(r.Days61To90), CsvText.Money(r.Days91To120), CsvText.Money(r.Over120), CsvText.Money(r.Total), r.Sessions)).Append('\n');
        foreach (var r in report.Rows) Row(r, Wire(r.Party!.Value));
        Row(report.Total, "total");
        text.Append('\n').Append("as_of,credit_balance,amount,oldest_payment_on\n");
        foreach (var c in report.CreditBalances)
        {
            text.Append(string.Join(',', CsvText.Date(report.AsOf), "credit", CsvText.Money(c.Amount), CsvText.Date(c.OldestPaymentOn))).Append('\n');
        }

        return text.ToString();
    }

    private static string Wire(ResponsibleParty party) => party.ToString().ToLowerInvariant();

    private sealed class Accumulator(ResponsibleParty? party, Guid? id, string name)
    {
        private readonly decimal[] _buckets = new decimal[5];
        private int _sessions;

        public ResponsibleParty? Party { get; } = party;
        public Guid? Id { get; } = id;
        public string Name { get; } = name;

        public decimal Total() => _buckets.Sum();

        /// <summary>Open amounts of some sessions: a session is in one row once (one day, one owner per party), so counts add up.</summary>
        public void Add(int bucket, decimal amount, int sessions)
        {
            _buckets[bucket] += amount;
            _sessions += sessions;
        }

        public static Accumulator Sum(IEnumerable<Accumulator> rows, ResponsibleParty? party, Guid? id, string name)
        {
            var sum = new Accumulator(party, id, name);
            foreach (var r in rows)
            {
                for (var i = 0; i < 5; i++) sum._buckets[i] += r._buckets[i];
                sum._sessions += r._sessions;
            }

            return sum;
        }

        public AgingRow ToRow() => new(Party, Id, Name, _buckets[0], _buckets[1], _buckets[2], _buckets[3], _buckets[4], Total(), _sessions);
    }
}

public static class ArAgingEndpoint
{
    /// <summary>Accounts receivable aging by responsible party, as of today (the clinic's date) unless asOf is given.</summary>
    /// <param name="asOf">The date ages are measured to (yyyy-MM-dd); amounts are always the current open amounts.</param>
    /// <param name="format">json (default) or csv.</param>
    [WolverineGet("/api/analytics/aging"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("Analytics")]
    public static async Task<IResult> Get(string? asOf, string? format, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        DateOnly date = calendar.Today();
        if (asOf is not null && !DateOnly.TryParseExact(asOf, "yyyy-MM-dd", out date)) problems.Add("asOf", "must be a date as yyyy-MM-dd");
        if (format is not (null or "json" or "csv")) problems.Add("format", "must be json or csv");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var report = await ArAging.BuildAsync(session, date, ct);
        return format == "csv"
            ? CsvText.Download(ArAging.ToCsv(report), $"ar-aging-{date:yyyy-MM-dd}.csv")
            : Results.Ok(report);
    }
}
