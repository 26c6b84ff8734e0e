using System.Net;
using System.Net.Http.Json;
using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// The same input twice (at once and far apart) and many writers on one stream: every accepted input counts once,
/// the others are 409 (or a replay's 200), never a 500, and the stream is never wedged.
/// </summary>
public class duplicates_and_races(AppFixture fixture) : IntegrationContext(fixture)
{
    private DateOnly Today => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
        .GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>(Host.Services).Today();

    private async Task<HttpClient> ClientAsync()
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
        return client;
    }

    private static async Task<HttpResponseMessage[]> AllAtOnce(int count, Func<int, Task<HttpResponseMessage>> send) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(() => send(i))));

    /// <summary>Retries a 409 the way a client does, with the same body (and so the same idempotency key).</summary>
    private static async Task<HttpResponseMessage> UntilNotConflict(Func<Task<HttpResponseMessage>> send)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.Conflict || attempt == 50) return response;
            // Backoff with jitter, as a client should: fifty clients retrying in step would keep colliding.
            await Task.Delay(Random.Shared.Next(10, 40) * Math.Min(attempt + 1, 8), TestContext.Current.CancellationToken);
        }
    }

    private async Task<Guid> PatientOwing(decimal times)
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Race", "Condition");
        for (var i = 0; i < times; i++) await Fixture.DeliveredSession(patient, Scenarios.Session());
        return patient;
    }

    /// <summary>An insured patient with one session filed as a claim with the fixture's payer.</summary>
    private async Task<(Guid Patient, ClaimView Claim)> FiledClaimAsync(string first, string last, Guid payer)
    {
        var patient = await Fixture.RegisteredPatient(first, last);
        await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session() with { Funding = ["insurance"] }));
        return (patient, await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId])));
    }

    [Fact]
    public async Task fifty_payments_at_once_on_one_patient_are_each_counted_once_and_the_stream_stays_writable()
    {
        var patient = await PatientOwing(3);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        var payments = Enumerable.Range(0, 50).Select(i => new RecordPayment(Guid.NewGuid(), "card", 10m + i, Today, $"race {i}")).ToList();

        var first = await AllAtOnce(50, i => client.PostAsJsonAsync($"/api/patients/{patient}/payments", payments[i], ct));
        Assert.All(first, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"status {(int)r.StatusCode}"));
        var accepted = first.Select((r, i) => (r, i)).Where(x => x.r.StatusCode == HttpStatusCode.Created).Select(x => x.i).ToList();
        Assert.NotEmpty(accepted);
        Assert.Equal(accepted.Sum(i => payments[i].Amount!.Value), (await Fixture.BalanceOf(patient)).TotalPaid);

        // The refused ones, retried as a client would: each is then recorded once; the accepted ones replay as 200.
        var retried = await AllAtOnce(50, i => UntilNotConflict(() => client.PostAsJsonAsync($"/api/patients/{patient}/payments", payments[i], ct)));
        Assert.All(retried.Select((r, i) => (r, i)), x => Assert.Equal(accepted.Contains(x.i) ? HttpStatusCode.OK : HttpStatusCode.Created, x.r.StatusCode));
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal(payments.Sum(p => p.Amount!.Value), balance.TotalPaid);
        Assert.Equal(balance.TotalCharged - balance.TotalPaid - balance.TotalAdjusted + balance.TotalRefunded, balance.TotalOpen - balance.UnappliedCredit);

        var after = await client.PostAsJsonAsync($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 1m, Today, "after the race"), ct);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Fact]
    public async Task the_same_payment_sent_ten_times_at_once_and_again_later_is_recorded_once_and_other_content_is_409()
    {
        var patient = await PatientOwing(1);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        var payment = new RecordPayment(Guid.NewGuid(), "card", 120m, Today, "VISA 4242");

        var responses = await AllAtOnce(10, _ => UntilNotConflict(() => client.PostAsJsonAsync($"/api/patients/{patient}/payments", payment, ct)));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"status {(int)r.StatusCode}"));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);

        await Task.Delay(1500, ct);
        var later = await client.PostAsJsonAsync($"/api/patients/{patient}/payments", payment, ct);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        var changed = await client.PostAsJsonAsync($"/api/patients/{patient}/payments", payment with { Amount = 121m }, ct);
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);

        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal(120m, balance.TotalPaid);
        Assert.Equal(1, (await Fixture.EventsOf(patient)).Count(e => e.Data is PaymentReceived));
    }

    [Fact]
    public async Task the_same_session_sent_five_times_at_once_is_charged_once()
    {
        var patient = await PatientOwing(0);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        var session = Scenarios.Session();

        var responses = await AllAtOnce(5, _ => UntilNotConflict(() => client.PostAsJsonAsync($"/api/patients/{patient}/sessions", session, ct)));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"status {(int)r.StatusCode}"));
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((1, 450m), (balance.Sessions.Count, balance.TotalCharged));
    }

    [Fact]
    public async Task fifty_postings_at_once_on_one_claim_post_one_answer_and_refuse_the_rest_without_a_500()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var (patient, claim) = await FiledClaimAsync("Claim", "Race", payer);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;

        var responses = await AllAtOnce(50, i => client.PostAsJsonAsync($"/api/claims/{claim.Id}/eob",
            new PostEob(Guid.NewGuid(), $"PCN-{i}", [new EobLine(1, 300m, 240m, [new EobAdjustment("CO", "45", 150m), new EobAdjustment("PR", "2", 60m)], null)]), ct));

        var codes = responses.Select(r => (int)r.StatusCode).ToList();
        Assert.DoesNotContain(codes, c => c >= 500);
        Assert.Single(codes, c => c == 200);
        Assert.All(codes.Where(c => c != 200), c => Assert.True(c is 409 or 422, $"status {c}"));
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((240m, 60m, 0m), (balance.TotalInsurancePaid, balance.PatientDue, balance.InsurancePending));
        Assert.Single((await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Adjudications);
    }

    [Fact]
    public async Task the_same_835_sent_five_times_at_once_posts_once()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var (patient, claim) = await FiledClaimAsync("Remit", "Twice", payer);
        var served = claim.Lines[0].DateOfService;
        var file = Remittance835Builder.Build("TRACE-RACE-1", "BLUE PRAIRIE HEALTH", "BPH01", 240m, served.AddDays(20),
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 240m, 60m, new Remittance835Builder.Svc("96365", 450m, 240m, served, null, ("CO", "45", 150m), ("PR", "2", 60m)))]);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;

        var responses = await AllAtOnce(5, _ => UntilNotConflict(() => client.PostAsync("/api/remittances", new StringContent(file), ct)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var uploads = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<RemittanceUpload>(ct)));
        Assert.Single(uploads, u => !u!.Duplicate);
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal(240m, balance.TotalInsurancePaid);
    }

    [Fact]
    public async Task an_835_posting_meets_a_payment_saved_first_on_one_of_its_accounts_and_decides_that_account_again()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var claims = new List<(Guid Patient, ClaimView Claim)>();
        foreach (var name in new[] { "Ahead", "Behind" }) claims.Add(await FiledClaimAsync(name, "Posting", payer));

        var served = claims[0].Claim.Lines[0].DateOfService;
        var file = Remittance835Builder.Build($"TRACE-MEET-{Guid.NewGuid():N}"[..20], "BLUE PRAIRIE HEALTH", "BPH01", 600m, served.AddDays(20),
            claims.Select(c => new Remittance835Builder.Clp(c.Claim.ControlNumber, "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, served, null, ("CO", "45", 150m)))));
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        var behind = claims[1].Patient;

        // The second patient's stream is held; a payment to that patient waits on it first, then the 835's posting.
        await using var held = await HeldLock.StreamAsync(Fixture.ClinicConnectionString, Store.Options.Events.DatabaseSchemaName, behind);
        var payment = client.PostAsJsonAsync($"/api/patients/{behind}/payments", new RecordPayment(Guid.NewGuid(), "card", 20m, Today, "at the desk"), ct);
        await held.WaitersAsync(1, payment, "the payment");
        var posting = client.PostAsync("/api/remittances", new StringContent(file), ct);
        await held.WaitersAsync(2, posting, "the 835");
        await held.ReleaseAsync();

        // The payment saved first; the posting's transaction found that account changed, read it again and posted.
        Assert.Equal(HttpStatusCode.Created, (await payment).StatusCode);
        var response = await posting;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Fixture.Logs.Lines, l => l.Contains("deciding them again", StringComparison.Ordinal) && l.Contains("TRACE-MEET", StringComparison.Ordinal));
        var upload = (await response.Content.ReadFromJsonAsync<RemittanceUpload>(ct))!;
        Assert.Equal((2, 600m, 0), (upload.ClaimsPosted, upload.TotalPaid, upload.UnmatchedItems));
        var balance = await Fixture.BalanceOf(behind);
        Assert.Equal((300m, 20m), (balance.TotalInsurancePaid, balance.TotalPaid - balance.TotalInsurancePaid));
        Assert.Equal(300m, (await Fixture.BalanceOf(claims[0].Patient)).TotalInsurancePaid);
    }

    [Fact]
    public async Task two_different_835s_under_one_trace_at_once_post_one_and_refuse_the_other()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var (patient, claim) = await FiledClaimAsync("Two", "Contents", payer);
        var served = claim.Lines[0].DateOfService;
        var trace = $"TRACE-TWO-{Guid.NewGuid():N}"[..20];
        string File(decimal paid) => Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", paid, served.AddDays(20),
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, paid, 0m, new Remittance835Builder.Svc("96365", 450m, paid, served, null, ("CO", "45", 450m - paid)))]);
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;

        var responses = await AllAtOnce(2, i => client.PostAsync("/api/remittances", new StringContent(File(i == 0 ? 300m : 250m)), ct));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var paid = responses[0].StatusCode == HttpStatusCode.OK ? 300m : 250m;
        Assert.Equal(paid, (await Fixture.BalanceOf(patient)).TotalInsurancePaid);
        Assert.Equal(paid, Assert.Single((await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Adjudications).Paid);
    }
}
