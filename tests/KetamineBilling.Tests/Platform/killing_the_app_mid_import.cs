using System.Net.Http.Json;
using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// The app is killed (SIGKILL) while it posts a large 835, started again, and the same file is sent again: every
/// claim payment is posted exactly once and every balance adds up.
/// </summary>
public class killing_the_app_mid_import(AppFixture fixture)
{
    private const int Claims = 1500;



    [Fact]
    public async Task every_claim_payment_is_posted_exactly_once_after_a_kill_and_a_resend()
    {
        var ct = TestContext.Current.CancellationToken;
        var schema = $"faults_{Guid.NewGuid():N}"[..15];
        await using var app = new AppProcess(fixture.ConnectionString, schema);
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        var api = await app.StartPricedAsync("dr-fault", today);
        var payer = (await ClientCommands.PostAsync<PayerCreated>(api, "/api/payers", new CreatePayer("Fault Health", "FAULT1", "commercial", "in-network"))).Id;
        var served = today.AddDays(-20);

        var claims = new System.Collections.Concurrent.ConcurrentBag<(Guid Patient, string ControlNumber)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Claims / 10), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (p, _) =>
        {
            var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient($"Fault{p}", "Patient", new DateOnly(1980, 1, 1), null, null))).Id;
            await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages", new RecordCoverage(null, payer, $"FLT{p:D6}", "primary", ActiveFrom: today.AddYears(-1)));
            for (var s = 0; s < 10; s++)
            {
                var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
                    new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-fault", ["insurance"]));
                var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [charge.SessionId]));
                claims.Add((patient, claim.ControlNumber));
            }
        });
        // Each patient's claims side by side in the file, so that one patient's claims fall in one posting transaction.
        var inFile = claims.OrderBy(c => c.Patient).ThenBy(c => c.ControlNumber, StringComparer.Ordinal).ToList();
        var file = Remittance835Builder.Build("TRACE-KILL-1", "FAULT HEALTH", "FAULT1", Claims * 300m, today,
            inFile.Select(c => new Remittance835Builder.Clp(c.ControlNumber, "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, served, null, ("CO", "45", 150m)))));

        // Send the file and kill the app in the middle of its posting, wherever the machine's speed would put it: this
        // connection holds the stream of the patient whose claims are halfway down the file, so the transaction posting
        // them waits on it, after the transactions before it were committed. Then the app dies.
        var halfway = inFile[Claims / 2].Patient;
        await using var held = await HeldLock.StreamAsync(fixture.ClinicConnectionString, schema, halfway);
        var sending = api.PostAsync("/api/remittances", new StringContent(file, Encoding.UTF8, "text/plain"), ct);
        await held.WaitersAsync(1, sending, "the import", TimeSpan.FromSeconds(120));

        await app.KillAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => sending);
        await held.ReleaseAsync();
        // The transactions before the kill stay posted; the one it cut and those after it left nothing.
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.ClinicConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var posted = new Npgsql.NpgsqlCommand($"select count(*) from {schema}.mt_events where type = 'claim_adjudicated'", connection);
            Assert.Equal(ChunkedRemittancePosting.ClaimsPerTransaction, (long)(await posted.ExecuteScalarAsync(ct))!);
        }

        // Restarted, the node shows the file as cut short, on the remittances list and on the worklist.
        await app.StartAsync();
        api = await app.ClientAsync();
        var incomplete = (await api.GetFromJsonAsync<RemittancePage>("/api/remittances?search=TRACE-KILL-1", ClientCommands.Json, ct))!.Items.Single(r => r.TraceNumber == "TRACE-KILL-1");
        Assert.Equal((true, Claims, 0, 0), (incomplete.Posting, incomplete.ClaimPayments, incomplete.Posted.Count, incomplete.Unmatched.Count));
        // The worklist is a read model the node's daemon keeps (ADR 0017): it shows the file within moments.
        async Task<IReadOnlyList<KetamineBilling.Features.Reconciliation.ExceptionItem>> Incomplete() =>
            (await api.GetFromJsonAsync<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=remittance-incomplete",
                ClientCommands.Json, ct))!.Items;
        async Task<IReadOnlyList<KetamineBilling.Features.Reconciliation.ExceptionItem>> IncompleteOnceCount(int count)
        {
            var items = await Incomplete();
            for (var i = 0; i < 150 && items.Count != count; i++)
            {
                await Task.Delay(200, ct);
                items = await Incomplete();
            }

            return items;
        }

        Assert.Equal("TRACE-KILL-1", Assert.Single(await IncompleteOnceCount(1)).Reference);

        // Other content under the trace it claimed is refused, before anything posts.
        var other = await api.PostAsync("/api/remittances", new StringContent(file.Replace("*300*", "*301*"), Encoding.UTF8, "text/plain"), ct);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, other.StatusCode);
        var resent = await api.PostAsync("/api/remittances", new StringContent(file, Encoding.UTF8, "text/plain"), ct);
        Assert.True(resent.IsSuccessStatusCode, await resent.Content.ReadAsStringAsync(ct));
        var upload = (await resent.Content.ReadFromJsonAsync<RemittanceUpload>(ClientCommands.Json, ct))!;
        // The resend posts the rest and reports the whole file, the claims posted before the kill with their figures.
        Assert.False(upload.Duplicate);
        Assert.Equal((Claims, Claims * 300m, 0), (upload.ClaimsPosted, upload.TotalPaid, upload.UnmatchedItems));
        var again = (await (await api.PostAsync("/api/remittances", new StringContent(file, Encoding.UTF8, "text/plain"), ct)).Content.ReadFromJsonAsync<RemittanceUpload>(ClientCommands.Json, ct))!;
        Assert.Equal((true, Claims, Claims * 300m), (again.Duplicate, again.ClaimsPosted, again.TotalPaid));
        Assert.Empty(await IncompleteOnceCount(0));

        // Every claim answered once; every account paid 300.00 a claim by insurance, and its balance identity holds.
        var adjudications = 0;
        for (var page = 1; ; page++)
        {
            var batch = (await api.GetFromJsonAsync<ClaimPage>($"/api/claims?page={page}&pageSize=200", ClientCommands.Json, ct))!;
            Assert.All(batch.Items, c => Assert.Equal(("paid", 1), (c.Status, c.Adjudications.Count)));
            adjudications += batch.Items.Sum(c => c.Adjudications.Count);
            if (batch.Items.Count < 200) break;
        }

        Assert.Equal(Claims, adjudications);
        foreach (var patient in claims.Select(c => c.Patient).Distinct())
        {
            var balance = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, ct))!;
            var onIt = claims.Count(c => c.Patient == patient);
            Assert.Equal((300m * onIt, 0m), (balance.TotalInsurancePaid, balance.InsurancePending));
            Assert.Equal(balance.TotalCharged - balance.TotalPaid - balance.TotalAdjusted + balance.TotalRefunded, balance.TotalOpen - balance.UnappliedCredit);
        }
    }
}
