using JasperFx.Events;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Analytics;

/// <summary>What one session owes one party (the payer, employer, grant or study for those parties), as last counted.</summary>
public sealed record AgingLine(Guid SessionId, ResponsibleParty Party, Guid? OwnerId, DateOnly DeliveredOn, decimal Open);

/// <summary>
/// The aging projection's memory of one account: the lines it counted and the credit it recorded, so that the next change
/// takes away exactly what was added. Only accounts with something open or some credit have one.
/// </summary>
public sealed class AgingAccount
{
    public Guid Id { get; set; }
    public List<AgingLine> Lines { get; set; } = [];
    public decimal Credit { get; set; }
}

/// <summary>
/// Open amounts of one party (and owner) for the sessions delivered on one day, and how many sessions they are; with no
/// party, every party's open amount and the sessions with anything open (so the total counts a session once).
/// The aging report sums these into buckets for any "as of" date: a read is a few documents a day and owner, whatever
/// the store's size.
/// </summary>
public sealed class AgingDay
{
    /// <summary>"{party|all}:{owner id|-}:{yyyy-MM-dd}".</summary>
    public string Id { get; set; } = "";

    public ResponsibleParty? Party { get; set; }
    public Guid? OwnerId { get; set; }
    public DateOnly DeliveredOn { get; set; }
    public decimal Open { get; set; }
    public int Sessions { get; set; }

    public static string IdOf(ResponsibleParty? party, Guid? owner, DateOnly day) =>
        $"{(party is { } p ? ((int)p).ToString(System.Globalization.CultureInfo.InvariantCulture) : "all")}:{owner?.ToString("N") ?? "-"}:{day:yyyy-MM-dd}";
}

/// <summary>An account's unapplied credit (<see cref="CreditBalance"/>): one document per account that has any.</summary>
public sealed class AgingCredit
{
    public Guid Id { get; set; }
    public decimal Amount { get; set; }
    public DateOnly? OldestPaymentOn { get; set; }
}

/// <summary>
/// Which employer, grant or study a session is committed to, folded from their streams' own events (committed, released):
/// the owner an open third-party amount is aged under.
/// </summary>
public sealed class AgingSponsor
{
    /// <summary>"{session id}:{party}".</summary>
    public string Id { get; set; } = "";

    public Guid SessionId { get; set; }
    public ResponsibleParty Party { get; set; }
    public Guid OwnerId { get; set; }
    public Guid PatientId { get; set; }

    public static string IdOf(Guid sessionId, ResponsibleParty party) => $"{sessionId:N}:{(int)party}";
}

/// <summary>
/// Keeps the A/R aging read model (ADR 0017): per account, what is open by party and session, read from the inline
/// <see cref="PatientAccount"/> after its events (the ledger's own arithmetic, not a second copy of it), and the day
/// tallies the report sums. Asynchronous, so a command never pays for it; it reads the account documents, so a rebuild
/// runs after theirs (<see cref="Maintenance.ProjectionMaintenance.Readers"/>).
/// </summary>
public sealed class AgingProjection : IProjection
{
    public const string Name = "Aging";

    /// <summary>Every event the account document folds: any of them may change what is open.</summary>
    public static readonly Type[] AccountEventTypes = Persistence.FoldedBy(typeof(PatientAccount));

    public static readonly Type[] SponsorEventTypes =
    [
        typeof(DirectPayCommitted), typeof(DirectPayReleased), typeof(GrantApplied), typeof(GrantReleased), typeof(StudySessionCovered), typeof(StudySessionReleased)
    ];

    public static IEnumerable<Type> EventTypes => AccountEventTypes.Concat(SponsorEventTypes).Distinct();

    private static readonly ResponsibleParty[] Parties = Enum.GetValues<ResponsibleParty>();

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var accounts = new HashSet<Guid>();
        var sponsors = await SponsorsAsync(operations, events, accounts, cancellation);
        foreach (var e in events.Where(e => !SponsorEventTypes.Contains(e.EventType))) accounts.Add(e.StreamId);
        if (accounts.Count == 0) return;

        var ids = accounts.ToArray();
        var snapshots = (await operations.LoadManyAsync<PatientAccount>(cancellation, ids)).ToDictionary(a => a.Id);
        var memories = (await operations.LoadManyAsync<AgingAccount>(cancellation, ids)).ToDictionary(a => a.Id);

        // The owners of the open third-party amounts: this batch's changes first, then the stored ones.
        var wanted = snapshots.Values.SelectMany(a => a.Sessions.Where(s => !s.Voided))
            .SelectMany(s => Parties.Where(p => p is not (ResponsibleParty.Patient or ResponsibleParty.Insurance or ResponsibleParty.Collections) && s.Lines.Sum(l => l.Open[p]) != 0)
                .Select(p => AgingSponsor.IdOf(s.SessionId, p)))
            .Where(id => !sponsors.ContainsKey(id)).Distinct().ToArray();
        var stored = wanted.Length == 0
            ? new Dictionary<string, AgingSponsor>()
            : (await operations.LoadManyAsync<AgingSponsor>(cancellation, wanted)).ToDictionary(s => s.Id);
        Guid? OwnerOf(Guid sessionId, ResponsibleParty party)
        {
            var id = AgingSponsor.IdOf(sessionId, party);
            return sponsors.TryGetValue(id, out var changed) ? changed?.OwnerId : stored.GetValueOrDefault(id)?.OwnerId;
        }

        var days = new Dictionary<string, AgingDay>();
        foreach (var id in ids)
        {
            var memory = memories.GetValueOrDefault(id);
            var account = snapshots.GetValueOrDefault(id);
            var lines = account is null ? [] : LinesOf(account, OwnerOf);
            var credit = account?.UnappliedCredit > 0 ? account.UnappliedCredit : 0m;
            var oldLines = memory?.Lines ?? [];
            if (oldLines.SequenceEqual(lines) && (memory?.Credit ?? 0m) == credit && credit == 0m) continue;

            Count(days, oldLines, -1);
            Count(days, lines, 1);
            if (lines.Count == 0 && credit == 0m)
            {
                if (memory is not null) operations.Delete<AgingAccount>(id);
            }
            else
            {
                operations.Store(new AgingAccount { Id = id, Lines = lines, Credit = credit });
            }

            // The credit document carries the oldest payment's date too: written whenever there is credit, so it follows it.
            if (credit > 0m)
            {
                var oldest = account!.Payments.Where(p => p.Unapplied > 0).Select(p => (DateOnly?)p.ReceivedOn).Min();
                operations.Store(new AgingCredit { Id = id, Amount = credit, OldestPaymentOn = oldest });
            }
            else if (memory?.Credit > 0m)
            {
                operations.Delete<AgingCredit>(id);
            }
        }

        if (days.Count == 0) return;
        var current = (await operations.LoadManyAsync<AgingDay>(cancellation, days.Keys.ToArray())).ToDictionary(d => d.Id);
        foreach (var (key, delta) in days)
        {
            if (delta is { Open: 0m, Sessions: 0 }) continue;
            var day = current.GetValueOrDefault(key) ?? new AgingDay { Id = key, Party = delta.Party, OwnerId = delta.OwnerId, DeliveredOn = delta.DeliveredOn };
            day.Open += delta.Open;
            day.Sessions += delta.Sessions;
            if (day is { Open: 0m, Sessions: 0 }) operations.Delete<AgingDay>(key);
            else operations.Store(day);
        }
    }

    /// <summary>
    /// Folds this batch's commitments and releases into the sponsor documents (written here) and returns them by id (null:
    /// released); the accounts whose sessions changed owner are added to <paramref name="accounts"/>.
    /// </summary>
    private static async Task<Dictionary<string, AgingSponsor?>> SponsorsAsync(
        IDocumentOperations operations, IReadOnlyList<IEvent> events, HashSet<Guid> accounts, CancellationToken cancellation)
    {
        var changes = new Dictionary<string, AgingSponsor?>();
        var folded = events.Where(e => SponsorEventTypes.Contains(e.EventType)).Select(e => e.Data).ToList();
        if (folded.Count == 0) return changes;

        var released = folded.Select(e => e switch
        {
            DirectPayReleased r => AgingSponsor.IdOf(r.SessionId, ResponsibleParty.Employer),
            GrantReleased r => AgingSponsor.IdOf(r.SessionId, ResponsibleParty.Grant),
            StudySessionReleased r => AgingSponsor.IdOf(r.SessionId, ResponsibleParty.Sponsor),
            _ => null
        }).OfType<string>().Distinct().ToArray();
        var known = released.Length == 0
            ? new Dictionary<string, AgingSponsor>()
            : (await operations.LoadManyAsync<AgingSponsor>(cancellation, released)).ToDictionary(s => s.Id);

        void Commit(Guid sessionId, ResponsibleParty party, Guid owner, Guid patientId)
        {
            var sponsor = new AgingSponsor { Id = AgingSponsor.IdOf(sessionId, party), SessionId = sessionId, Party = party, OwnerId = owner, PatientId = patientId };
            changes[sponsor.Id] = sponsor;
            accounts.Add(patientId);
        }

        void Release(Guid sessionId, ResponsibleParty party, Guid owner)
        {
            // Only the owner it is committed to releases it (a session moved to another employer stays with that one).
            var id = AgingSponsor.IdOf(sessionId, party);
            var current = changes.TryGetValue(id, out var changed) ? changed : known.GetValueOrDefault(id);
            if (current is null || current.OwnerId != owner) return;
            changes[id] = null;
            accounts.Add(current.PatientId);
        }

        foreach (var e in folded)
        {
            switch (e)
            {
                case DirectPayCommitted c: Commit(c.SessionId, ResponsibleParty.Employer, c.EmployerId, c.PatientId); break;
                case DirectPayReleased r: Release(r.SessionId, ResponsibleParty.Employer, r.EmployerId); break;
                case GrantApplied a: Commit(a.SessionId, ResponsibleParty.Grant, a.GrantId, a.PatientId); break;
                case GrantReleased r: Release(r.SessionId, ResponsibleParty.Grant, r.GrantId); break;
                case StudySessionCovered c: Commit(c.SessionId, ResponsibleParty.Sponsor, c.StudyId, c.PatientId); break;
                case StudySessionReleased r: Release(r.SessionId, ResponsibleParty.Sponsor, r.StudyId); break;
            }
        }

        foreach (var (id, sponsor) in changes)
        {
            if (sponsor is null) operations.Delete<AgingSponsor>(id);
            else operations.Store(sponsor);
        }

        return changes;
    }

    /// <summary>What the account has open, by session and party, with each party's owner (<see cref="ArAging.InsurerOf"/> for insurance).</summary>
    public static List<AgingLine> LinesOf(PatientAccount account, Func<Guid, ResponsibleParty, Guid?> ownerOf)
    {
        var lines = new List<AgingLine>();
        foreach (var s in account.Sessions.Where(s => !s.Voided))
        {
            foreach (var party in Parties)
            {
                var open = s.Lines.Sum(l => l.Open[party]);
                if (open == 0) continue;
                var owner = party switch
                {
                    ResponsibleParty.Patient => null,
                    ResponsibleParty.Insurance => ArAging.InsurerOf(account, s),
                    ResponsibleParty.Collections => account.ActivePlacement?.AgencyId,
                    _ => ownerOf(s.SessionId, party)
                };
                lines.Add(new AgingLine(s.SessionId, party, owner, s.DeliveredOn, open));
            }
        }

        return lines;
    }

    private static void Count(Dictionary<string, AgingDay> days, List<AgingLine> lines, int sign)
    {
        void Add(ResponsibleParty? party, Guid? owner, DateOnly day, decimal open)
        {
            var key = AgingDay.IdOf(party, owner, day);
            if (!days.TryGetValue(key, out var delta)) days[key] = delta = new AgingDay { Id = key, Party = party, OwnerId = owner, DeliveredOn = day };
            delta.Open += sign * open;
            delta.Sessions += sign;
        }

        foreach (var line in lines) Add(line.Party, line.OwnerId, line.DeliveredOn, line.Open);
        foreach (var session in lines.GroupBy(l => (l.SessionId, l.DeliveredOn))) Add(null, null, session.Key.DeliveredOn, session.Sum(l => l.Open));
    }
}
