using KetamineBilling.Features.Ui;
using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using UglyToad.PdfPig;

namespace KetamineBilling.Tests.Features.Claims;

public class out_of_network_and_dependents(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    [Fact]
    public async Task a_superbill_lists_what_the_insurer_needs_and_the_reported_reimbursement_is_kept_apart_from_the_balance()
    {
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        var patient = await Fixture.RegisteredPatient("Ingeborg", "Laszlo-Nakamura", new DateOnly(1975, 3, 3));
        var payer = await Fixture.Payer("Faraway Indemnity", "FAR99");
        var session = await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-4)));
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", 450m, Today, "VISA 1111"));

        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{patient}/superbill?sessionIds={session.SessionId}");
            s.ContentTypeShouldBe("application/pdf");
        });
        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        using var pdf = PdfDocument.Open(buffer.ToArray());
        var text = string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
        foreach (var expected in new[] { "Superbill", "Ingeborg", "1234567893", "2084P0800X", "36-1234567", "F33.2", "96365", "$450.00", Fmt.Date(Today.AddDays(-4)) })
        {
            Assert.Contains(expected, text);
        }

        var reimbursement = new ReportOutOfNetworkReimbursement(Guid.NewGuid(), payer, 180m, Today, [session.SessionId]);
        await Fixture.Post<OutOfNetworkReimbursementReported>($"/api/patients/{patient}/out-of-network-reimbursements", reimbursement);
        await Fixture.Post<OutOfNetworkReimbursementReported>($"/api/patients/{patient}/out-of-network-reimbursements", reimbursement, 200);
        await Fixture.Post<Microsoft.AspNetCore.Mvc.ProblemDetails>($"/api/patients/{patient}/out-of-network-reimbursements", reimbursement with { Amount = 200m }, 409);
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((450m, 0m, 0m), (balance.TotalPaid, balance.TotalInsurancePaid, balance.PatientDue));
    }

    [Fact]
    public async Task a_dependent_is_claimed_under_the_subscriber_with_a_patient_loop()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Theo", "Abernathy", new DateOnly(2004, 9, 9));
        var payer = await Fixture.Payer();
        await Fixture.Post<CoverageRecorded>($"/api/patients/{patient}/coverages", new RecordCoverage(null, payer, "ABC998877", "primary", "GRP-1",
            new Subscriber("Martha", "Abernathy", new DateOnly(1972, 1, 15), "child"), ActiveFrom: Today.AddDays(-100)));
        var session = await Fixture.AndWaitForCascades(() =>
            Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-2)) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));

        var export = await Fixture.Call(As.Billing, s => s.Post.Json(new ExportClaimBatch([claim.Id], Guid.NewGuid())).ToUrl("/api/claim-batches"));
        var read = await ThirdPartyX12Reader.ReadAsync(await export.ReadAsTextAsync());

        Assert.True(read.Ok, read.Error);
        var segments = read.Transactions!.Single().Segments;
        Assert.Equal([["1", "", "20", "1"], ["2", "1", "22", "1"], ["3", "2", "23", "0"]], segments.Where(s => s.Tag == "HL").Select(s => s.Elements).ToArray());
        Assert.Equal(["IL", "1", "ABERNATHY", "MARTHA", "", "", "", "MI", "ABC998877"], segments.First(s => s.Tag == "NM1" && s.Elements[0] == "IL").Elements);
        Assert.Equal(["19"], segments.First(s => s.Tag == "PAT").Elements);
        Assert.Equal(["QC", "1", "ABERNATHY", "THEO"], segments.First(s => s.Tag == "NM1" && s.Elements[0] == "QC").Elements);
    }
}
