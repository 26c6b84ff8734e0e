using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// A client's command never fails because of the platform's own background work: a session's durable cascade
/// (authorization counting appends to the same account moments later) races the client's next command on that account,
/// and the server decides that command again instead of answering 409. A real conflict still is a 409.
/// </summary>
public class conflicts_the_platform_causes_itself(AppFixture fixture) : IntegrationContext(fixture)
{
    private const int Rounds = 200;

    /// <summary>Patients worked on side by side; each one's rounds are sent back to back, as a clinic's desk does.</summary>
    private const int Lanes = 4;

    private DateOnly Today => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
        .GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>(Host.Services).Today();

    private async Task<HttpClient> ClientAsync()
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
        return client;
    }

    /// <summary>Insured patients (a coverage with the payer): each session they get is counted against authorizations by a cascade.</summary>
    private async Task<(Guid Payer, List<Guid> Patients)> InsuredPatientsAsync(string last)
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var patients = new List<Guid>();
        for (var lane = 0; lane < Lanes; lane++)
        {
            var patient = await Fixture.RegisteredPatient($"Lane{lane}", last);
            await Fixture.Coverage(patient, payer);
            patients.Add(patient);
        }

        return (payer, patients);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient client, string url, object body, ConcurrentBag<string> answers)
    {
        using var response = await client.PostAsJsonAsync(url, body, ClientCommands.Json, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // A refusal carries its problem's title and detail, so a failure says which rule or race it met.
        var refusal = response.IsSuccessStatusCode ? "" : $" ({text})";
        answers.Add($"{(int)response.StatusCode} {url.Split('/')[2]}{(url.EndsWith("/void", StringComparison.Ordinal) ? "/void" : "")}{refusal}");
        return (response.StatusCode, text);
    }

    /// <summary>
    /// Waits until every session's authorization check (the cascade) is on its account, and proves no cascade gave up:
    /// the platform's own follow-up work must not lose to the client's commands either.
    /// </summary>
    private async Task CascadesDoneAsync(IReadOnlyList<Guid> patients, DateTimeOffset since)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var patient in patients)
        {
            while ((await Fixture.BalanceOf(patient)).Sessions.Any(s => s.AuthorizationFlag is null))
            {
                Assert.True(DateTime.UtcNow < deadline, "a session's authorization check never reached its account");
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }

        await using var connection = new Npgsql.NpgsqlConnection(Fixture.ClinicConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new Npgsql.NpgsqlCommand("select count(*) from wolverine.wolverine_dead_letters where sent_at >= $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = since.AddSeconds(-1) });
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
    }

    private int Retries() => Fixture.Logs.Lines.Count(l => l.Contains("deciding it again", StringComparison.Ordinal));

    private static string Summary(IEnumerable<string> answers) =>
        string.Join(", ", answers.GroupBy(a => a).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}"));

    private static DeliverSession InsuredSession(int round) =>
        Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-3 - round % 20))) with { Funding = ["insurance"] };

    [Fact]
    public async Task two_hundred_claims_filed_right_after_their_sessions_are_recorded_meet_no_409_and_every_balance_is_exact()
    {
        var (payer, patients) = await InsuredPatientsAsync("Claimed");
        var client = await ClientAsync();
        var answers = new ConcurrentBag<string>();
        var watch = Stopwatch.StartNew();
        var since = DateTimeOffset.UtcNow;
        var retriesBefore = Retries();

        await Task.WhenAll(patients.Select(patient => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds / Lanes; round++)
            {
                var session = InsuredSession(round);
                var delivered = await SendAsync(client, $"/api/patients/{patient}/sessions", session, answers);
                if (delivered.Status != HttpStatusCode.Created) continue;
                await SendAsync(client, "/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]), answers);
            }
        })));

        TestContext.Current.TestOutputHelper!.WriteLine($"{Rounds} session+claim rounds in {watch.Elapsed.TotalSeconds:0.0} s: {Summary(answers)}; decided again {Retries() - retriesBefore} times");
        Assert.True(answers.All(a => a.StartsWith("201 ", StringComparison.Ordinal)), $"every command answered 201: {Summary(answers)}");
        Assert.Equal(2 * Rounds, answers.Count);
        // The races really happened and were decided again on the server; each retry is logged by route template,
        // with nothing of the request's body (no patient name).
        var retries = Fixture.Logs.Lines.Where(l => l.Contains("deciding it again", StringComparison.Ordinal)).Skip(retriesBefore).ToList();
        Assert.NotEmpty(retries);
        Assert.Contains(retries, l => l.Contains("/api/claims", StringComparison.Ordinal) || l.Contains("/api/patients/{patientId}/sessions", StringComparison.Ordinal));
        Assert.DoesNotContain(retries, l => l.Contains("Lane", StringComparison.Ordinal) || l.Contains("Claimed", StringComparison.Ordinal));

        await CascadesDoneAsync(patients, since);
        foreach (var patient in patients)
        {
            var balance = await Fixture.BalanceOf(patient);
            Assert.Equal(Rounds / Lanes, balance.Sessions.Count);
            Assert.Equal((Rounds / Lanes * 450m, 0m, 0m, Rounds / Lanes * 450m), (balance.TotalCharged, balance.TotalVoided, balance.TotalPaid, balance.TotalOpen));
            // Each session is on exactly one claim, and its authorization check (the cascade) is recorded.
            Assert.All(balance.Sessions, s => Assert.Single(s.ClaimIds!));
        }

        var claims = await Fixture.Get<ClaimPage>("/api/claims?pageSize=200");
        Assert.Equal(Rounds, claims.TotalCount);
    }

    [Fact]
    public async Task two_hundred_sessions_paid_and_voided_right_after_they_are_recorded_meet_no_409_and_every_balance_is_exact()
    {
        var (_, patients) = await InsuredPatientsAsync("Voided");
        var client = await ClientAsync();
        var answers = new ConcurrentBag<string>();
        var watch = Stopwatch.StartNew();
        var since = DateTimeOffset.UtcNow;
        var retriesBefore = Retries();

        await Task.WhenAll(patients.Select(patient => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds / Lanes; round++)
            {
                var session = InsuredSession(round);
                var delivered = await SendAsync(client, $"/api/patients/{patient}/sessions", session, answers);
                if (delivered.Status != HttpStatusCode.Created) continue;
                await SendAsync(client, $"/api/patients/{patient}/payments",
                    new RecordPayment(Guid.NewGuid(), "card", 100m, Today, $"round {round}", [new LineTarget(session.SessionId, null)]), answers);
                await SendAsync(client, $"/api/patients/{patient}/sessions/{session.SessionId}/void", new VoidSession("entered twice"), answers);
            }
        })));

        TestContext.Current.TestOutputHelper!.WriteLine($"{Rounds} session+payment+void rounds in {watch.Elapsed.TotalSeconds:0.0} s: {Summary(answers)}; decided again {Retries() - retriesBefore} times");
        Assert.True(answers.All(a => a.StartsWith("201 ", StringComparison.Ordinal) || a == "200 patients/void"), $"every command was accepted: {Summary(answers)}");
        Assert.Equal(3 * Rounds, answers.Count);

        await CascadesDoneAsync(patients, since);
        foreach (var patient in patients)
        {
            var balance = await Fixture.BalanceOf(patient);
            var n = Rounds / Lanes;
            Assert.Equal(n, balance.Sessions.Count);
            Assert.All(balance.Sessions, s => Assert.True(s.Voided));
            // Every charge voided (the charged total is net of voids); every payment went back to the patient's unapplied credit.
            Assert.Equal((0m, n * 450m, n * 100m, n * 100m, 0m, 0m),
                (balance.TotalCharged, balance.TotalVoided, balance.TotalPaid, balance.UnappliedCredit, balance.TotalOpen, balance.PatientDue));
        }
    }

    [Fact]
    public async Task a_real_conflict_the_same_key_with_other_content_still_answers_409_at_once()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Real", "Conflict");
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        var client = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        var payment = new RecordPayment(Guid.NewGuid(), "card", 120m, Today, "VISA 4242");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/patients/{patient}/payments", payment, ClientCommands.Json, ct)).StatusCode);
        var retriesBefore = Fixture.Logs.Lines.Count(l => l.Contains("deciding it again", StringComparison.Ordinal));

        var changed = await client.PostAsJsonAsync($"/api/patients/{patient}/payments", payment with { Amount = 121m }, ClientCommands.Json, ct);

        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Contains("other content", await changed.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        // A conflict the command itself decides is answered, not retried.
        Assert.Equal(retriesBefore, Fixture.Logs.Lines.Count(l => l.Contains("deciding it again", StringComparison.Ordinal)));
        Assert.Equal(120m, (await Fixture.BalanceOf(patient)).TotalPaid);
    }
}
