using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Patients;

public class delivering_a_session(AppFixture fixture) : IntegrationContext(fixture)
{
    private Guid _patient;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450.00m, description: "IV infusion, initial hour");
        await Fixture.PricedCode("J3490", 60.00m, description: "Unclassified drug (ketamine)");
        _patient = await Fixture.RegisteredPatient();
    }

    [Fact]
    public async Task each_line_is_priced_from_the_fee_schedule_and_the_balance_shows_it_at_once()
    {
        var charge = await Fixture.DeliveredSession(_patient, Scenarios.Session(lines: [("96365", 1), ("J3490", 2)]));

        Assert.Equal(570.00m, charge.TotalCharge);
        Assert.Equal([450.00m, 120.00m], charge.Lines.Select(l => l.Amount));
        Assert.Equal("IV infusion, initial hour", charge.Lines[0].Description);

        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal(570.00m, balance.TotalCharged);
        Assert.Equal(charge.SessionId, Assert.Single(balance.Sessions).SessionId);
    }

    [Fact]
    public async Task replaying_the_same_session_answers_200_with_the_same_charge_and_charges_once()
    {
        var session = Scenarios.Session(lines: [("96365", 1)]);
        var first = await Fixture.DeliveredSession(_patient, session);

        var replay = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(200);
        });

        var again = (await replay.ReadAsJsonAsync<SessionCharge>())!;
        Assert.Equal(first.TotalCharge, again.TotalCharge);
        Assert.Equal(first.SessionId, again.SessionId);
        Assert.Equal(450.00m, (await Fixture.BalanceOf(_patient)).TotalCharged);
        Assert.Equal(2, (await Fixture.EventsOf(_patient)).Count);
    }

    [Fact]
    public async Task the_same_session_id_with_other_content_is_a_409_and_changes_nothing()
    {
        var session = Scenarios.Session(lines: [("96365", 1)]);
        await Fixture.DeliveredSession(_patient, session);

        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session with { Lines = [new SessionLineInput("96365", 2)] }).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(409);
        });

        Assert.Equal(450.00m, (await Fixture.BalanceOf(_patient)).TotalCharged);
    }

    [Fact]
    public async Task the_same_session_id_on_another_patient_is_a_409()
    {
        var session = Scenarios.Session();
        await Fixture.DeliveredSession(_patient, session);
        var other = await Fixture.RegisteredPatient("Other", "Patient");

        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session).ToUrl($"/api/patients/{other}/sessions");
            s.StatusCodeShouldBe(409);
        });

        Assert.Equal(0m, (await Fixture.BalanceOf(other)).TotalCharged);
    }

    [Fact]
    public async Task an_unknown_patient_is_a_404()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session()).ToUrl($"/api/patients/{Guid.NewGuid()}/sessions");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task an_unknown_code_is_a_422_naming_the_line()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session(lines: [("96365", 1), ("99999", 1)])).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(422);
        });

        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal("lines[1].code", Assert.Single(problem.Errors.Keys));
        Assert.Single(await Fixture.EventsOf(_patient));
    }

    [Fact]
    public async Task a_bad_modifier_an_ambiguous_ndc_or_an_unknown_place_of_service_is_a_400_naming_each_and_nothing_is_recorded()
    {
        var session = Scenarios.Session() with
        {
            PlaceOfService = "99",
            Lines = [new SessionLineInput("96365", 1, ["95", "9"]), new SessionLineInput("J3490", 1, null, new DrugInput("0409205101", 0m, "CC"))]
        };
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(400);
        });

        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["lines[0].modifiers[1]", "lines[1].drug.ndc", "lines[1].drug.quantity", "lines[1].drug.unit", "placeOfService"], problem.Errors.Keys.Order());
        Assert.Contains("10 digits without hyphens", problem.Errors["lines[1].drug.ndc"][0]);
        Assert.Single(await Fixture.EventsOf(_patient));
    }

    [Fact]
    public async Task negative_units_are_a_400_naming_the_line()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session(lines: [("96365", -1)])).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(400);
        });

        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("lines[0].units", problem.Errors.Keys);
    }

    [Fact]
    public async Task a_future_date_of_service_is_a_400()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(3)))).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(400);
        });

        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal("deliveredOn", Assert.Single(problem.Errors.Keys));
    }

    [Fact]
    public async Task a_later_price_does_not_reprice_sessions_delivered_before_it()
    {
        var before = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-20));
        var after = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-5));
        await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: before));
        await Fixture.PricedCode("96365", 500.00m, effectiveFrom: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-10)));

        var later = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: after));
        var earlierAgain = await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: before));

        Assert.Equal(500.00m, later.TotalCharge);
        Assert.Equal(450.00m, earlierAgain.TotalCharge);
        Assert.Equal(1400.00m, (await Fixture.BalanceOf(_patient)).TotalCharged);
    }

    [Fact]
    public async Task every_event_records_who_caused_it_and_the_request_correlation_id()
    {
        var token = await Fixture.TokenFor(As.Billing);
        var me = await Fixture.Call(As.Billing, s => s.Get.Url("/api/auth/me"));
        var userId = (await me.ReadAsJsonAsync<KetamineBilling.Features.Auth.CurrentUser>())!.Id;

        await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.WithRequestHeader("X-Correlation-ID", "audit-check-42");
            s.Post.Json(Scenarios.Session()).ToUrl($"/api/patients/{_patient}/sessions");
            s.StatusCodeShouldBe(201);
            s.Header("X-Correlation-ID").SingleValueShouldEqual("audit-check-42");
        });

        var delivered = (await Fixture.EventsOf(_patient)).Last();
        Assert.IsType<SessionDelivered>(delivered.Data);
        Assert.Equal("audit-check-42", delivered.CorrelationId);
        Assert.Equal(userId.ToString(), delivered.Headers?[KetamineBilling.Infrastructure.AuditMiddleware.UserIdHeader]?.ToString());
    }

    [Fact]
    public async Task concurrent_sessions_on_one_account_are_each_charged_or_refused_with_409_never_a_500()
    {
        var token = await Fixture.TokenFor(As.Billing);
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var sessions = Enumerable.Range(0, 12).Select(_ => Scenarios.Session()).ToList();

        var responses = await Task.WhenAll(sessions.Select(s =>
            System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(client, $"/api/patients/{_patient}/sessions", s,
                TestContext.Current.CancellationToken)));

        var codes = responses.Select(r => (int)r.StatusCode).ToList();
        Assert.All(codes, c => Assert.True(c is 201 or 409, $"status {c}"));
        foreach (var conflict in responses.Where(r => (int)r.StatusCode == 409))
        {
            Assert.Contains("\"status\":409", await conflict.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
        Assert.Contains(201, codes);
        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal(codes.Count(c => c == 201), balance.Sessions.Count);
        Assert.Equal(450.00m * balance.Sessions.Count, balance.TotalCharged);
    }
}
