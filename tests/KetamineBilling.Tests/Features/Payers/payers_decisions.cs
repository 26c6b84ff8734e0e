using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Tests.Features.Payers;

/// <summary>The payers area's pure decision, without a host: given the payer under an X12 id (or none), when a command, then the answer.</summary>
public class payers_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void a_new_x12_id_makes_a_payer_the_same_payer_again_answers_its_id_and_another_name_under_it_is_a_conflict()
    {
        var id = Guid.NewGuid();
        var command = new CreatePayer(" Blue Prairie Health ", "BPH01", "commercial", null);

        var created = Assert.IsType<Outcome.Accepted>(CreatePayerEndpoint.Decide(null, command, id, Now));
        var payer = Assert.IsType<Payer>(created.Answer);
        Assert.Equal((201, $"/api/payers/{id}"), (created.Status, created.Location));
        Assert.Equal(("Blue Prairie Health", "BPH01", PayerKind.Commercial, NetworkStatus.InNetwork, Now), (payer.Name, payer.PayerId, payer.Kind, payer.NetworkStatus, payer.CreatedAt));

        var replay = Assert.IsType<Outcome.Replayed>(CreatePayerEndpoint.Decide(payer, command, Guid.NewGuid(), Now));
        Assert.Equal(new PayerCreated(id), replay.Answer);
        var conflict = Assert.IsType<Outcome.Rejected>(CreatePayerEndpoint.Decide(payer, command with { Name = "Other Health" }, Guid.NewGuid(), Now));
        Assert.Equal((409, "payer id BPH01 belongs to Blue Prairie Health already"), (conflict.Status, conflict.Detail));
        Assert.IsType<Outcome.Rejected>(CreatePayerEndpoint.Decide(payer, command with { NetworkStatus = "out-of-network" }, Guid.NewGuid(), Now));
    }

    [Fact]
    public void a_payer_is_changed_in_place_the_same_values_change_nothing_and_another_payers_x12_id_is_a_conflict()
    {
        var payer = new Payer { Id = Guid.NewGuid(), Name = "Blue Prairie Health", PayerId = "BPH01", Kind = PayerKind.Commercial, CreatedAt = Now };
        var command = new ChangePayer("Blue Prairie Health Plans", "BPH02", "medicaid", "out-of-network");

        var changed = Assert.IsType<Payer>(Assert.IsType<Outcome.Accepted>(ChangePayerEndpoint.Decide(payer.Id, payer, null, command)).Answer);
        Assert.Equal((payer.Id, "Blue Prairie Health Plans", "BPH02", PayerKind.Medicaid, NetworkStatus.OutOfNetwork, Now),
            (changed.Id, changed.Name, changed.PayerId, changed.Kind, changed.NetworkStatus, changed.CreatedAt));
        Assert.IsType<Outcome.Replayed>(ChangePayerEndpoint.Decide(payer.Id, changed, null, command with { Name = " Blue Prairie Health Plans " }));

        var other = new Payer { Id = Guid.NewGuid(), Name = "Lakeshore Mutual", PayerId = "BPH02" };
        var conflict = Assert.IsType<Outcome.Rejected>(ChangePayerEndpoint.Decide(payer.Id, payer, other, command));
        Assert.Equal((409, "payer id BPH02 belongs to Lakeshore Mutual already"), (conflict.Status, conflict.Detail));
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(ChangePayerEndpoint.Decide(payer.Id, null, null, command)).Status);
        var refused = Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(ChangePayerEndpoint.Validate(command with { PayerId = "BPH 02!" }));
        Assert.Equal(["payerId"], refused.Errors.Keys);
    }
}
