using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// A patient with insurance, one infusion session (96365, $450) and one claim for it, built from events without a host
/// (<see cref="Given"/>): what the claims and remittances decision tests start from.
/// </summary>
public sealed class ClaimStory
{
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    public static readonly DateOnly Served = new(2026, 5, 20);

    public Guid PatientId { get; } = Guid.NewGuid();
    public Guid SessionId { get; } = Guid.NewGuid();
    public Guid ClaimId { get; } = Guid.NewGuid();
    public Payer Payer { get; } = new() { Id = Guid.NewGuid(), Name = "Blue Prairie Health", PayerId = "BPH01", Kind = PayerKind.Commercial };

    /// <summary>The account before the claim: registered, covered by <see cref="Payer"/>, one insurance-funded session.</summary>
    public PatientAccount Unclaimed() => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Ada", "Lovelace", new DateOnly(1980, 1, 2), null, null, Now.AddDays(-30),
            new PostalAddress("1 Main St", null, "Springfield", "IL", "62701")),
        new CoverageRecorded(PatientId, Guid.NewGuid(), Payer.Id, "M123", "G1", null, CoveragePriority.Primary, 40m, 20m, 1500m, new DateOnly(2026, 1, 1), null,
            Now.AddDays(-30)),
        new SessionDelivered(PatientId, SessionId, Served, 45, "main", [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)], ["F33.2"], 450m,
            Now.AddDays(-12), "dr-a", [FundingSource.Insurance]));

    public FileClaim FileClaim() => new(ClaimId, PatientId, Payer.Id, [SessionId]);

    /// <summary>The claim filed (as the API decides it) and the account with its sessions on it.</summary>
    public (Claim Claim, PatientAccount Account) Filed()
    {
        var account = Unclaimed();
        var outcome = FileClaimEndpoint.Decide(account, FileClaim(), Payer, null, new ClinicProfile(), Now.AddDays(-10));
        var filed = outcome.EventsFor(ClaimId).OfType<ClaimFiled>().Single();
        return (Given.Aggregate<Claim>(filed), account.Then([.. outcome.EventsFor(PatientId)]));
    }
}
