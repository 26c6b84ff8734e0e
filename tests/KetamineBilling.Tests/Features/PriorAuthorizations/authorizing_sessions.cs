using Microsoft.Extensions.DependencyInjection;
using KetamineBilling.Infrastructure;
using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.PriorAuthorizations;

public class authorizing_sessions(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        _patient = await Fixture.RegisteredPatient();
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
    }

    private Task<AuthorizationView> Request(Guid? id = null, DateOnly? requestedOn = null) => Fixture.Post<AuthorizationView>("/api/prior-authorizations",
        new RequestPriorAuthorization(id ?? Guid.NewGuid(), _patient, _payer, ["96365", "J3490"], 6, ["F33.2"],
            new MedicalNecessityEvidence(["sertraline 200 mg, 8 weeks", "bupropion XL 300 mg, 10 weeks"], 21, 34, "Treatment-resistant depression"), requestedOn));

    private Task<AuthorizationView> Approve(Guid id, int sessions = 6) => Fixture.AndWaitForCascades(() =>
        Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{id}/approve",
            new ApprovePriorAuthorization("PA-55123", sessions, null, Today.AddDays(-30), Today.AddDays(30)), 200));

    private Task<SessionCharge> InsuredSession(int daysAgo) => Fixture.AndWaitForCascades(() =>
        Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-daysAgo), lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["insurance"] }));

    [Fact]
    public async Task the_list_pages_every_authorization_newest_first_by_status_and_patient_with_names()
    {
        var other = await Fixture.RegisteredPatient("Wilhelmina", "Ashdown-Pryce");
        await Fixture.Coverage(other, _payer);
        // Requested on the clinic's days: the first two three days ago, the third today (the newest, listed first).
        var clinicToday = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var first = await Request(requestedOn: clinicToday.AddDays(-3));
        await Approve(first.Id);
        var second = await Request(requestedOn: clinicToday.AddDays(-3));
        await Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{second.Id}/deny", new DenyPriorAuthorization("Not medically necessary"), 200);
        var third = await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), other, _payer, ["96365"], 4,
            ["F32.2"], null, clinicToday));

        var all = await Fixture.Get<AuthorizationPage>("/api/prior-authorizations/list?page=1&pageSize=2");
        Assert.Equal((3L, 1, 2), (all.TotalCount, all.Page, all.PageSize));
        Assert.Equal(third.Id, all.Items[0].Id);
        Assert.Equal(("Wilhelmina Ashdown-Pryce", "requested", 4), (all.Items[0].PatientName, all.Items[0].Status, all.Items[0].SessionsRequested));
        var rest = await Fixture.Get<AuthorizationPage>("/api/prior-authorizations/list?page=2&pageSize=2");
        Assert.Equal(3L, rest.TotalCount);
        Assert.Equal(new[] { first.Id, second.Id, third.Id }.Order(), all.Items.Concat(rest.Items).Select(i => i.Id).Order());

        var approved = Assert.Single((await Fixture.Get<AuthorizationPage>("/api/prior-authorizations/list?status=approved")).Items);
        Assert.Equal((first.Id, "PA-55123", 6, 0, 6), (approved.Id, approved.AuthorizationNumber, approved.SessionsApproved, approved.Used, approved.Remaining));
        Assert.False(string.IsNullOrEmpty(approved.PayerName));
        var mine = await Fixture.Get<AuthorizationPage>($"/api/prior-authorizations/list?patientId={_patient}&status=denied");
        Assert.Equal(second.Id, Assert.Single(mine.Items).Id);

        var bad = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/prior-authorizations/list?status=lost&pageSize=500");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["pageSize", "status"], (await bad.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order());
        await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/prior-authorizations/list");
            s.StatusCodeShouldBe(403);
        });
    }

    [Fact]
    public async Task a_payer_is_created_once_per_x12_id()
    {
        var again = await Fixture.Post<PayerCreated>("/api/payers", new CreatePayer("Blue Prairie Health", "BPH01", "commercial", "in-network"), 200);
        var clash = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new CreatePayer("Other Name", "BPH01", "commercial", null)).ToUrl("/api/payers");
            s.StatusCodeShouldBe(409);
        });
        var badKind = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new CreatePayer("X", "X1", "charity", null)).ToUrl("/api/payers");
            s.StatusCodeShouldBe(400);
        });

        Assert.Equal(_payer, again.Id);
        Assert.NotNull(clash);
        Assert.Equal("kind", Assert.Single((await badKind.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys));
        Assert.Single(await Fixture.Get<List<Payer>>("/api/payers", As.Finance));
    }

    [Fact]
    public async Task coverage_needs_a_known_payer_and_records_once()
    {
        var unknown = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RecordCoverage(null, Guid.NewGuid(), "M1", "primary")).ToUrl($"/api/patients/{_patient}/coverages");
            s.StatusCodeShouldBe(422);
        });
        await Fixture.Post<CoverageRecorded>($"/api/patients/{_patient}/coverages",
            new RecordCoverage(null, _payer, "XJH123456789", "primary", "GRP-7781", CoinsurancePercent: 20m, Copay: 40m,
                ActiveFrom: Scenarios.ClinicToday.AddDays(-365)), 200);

        Assert.Contains("payerId", await unknown.ReadAsTextAsync());
        var coverage = Assert.Single(await Fixture.Get<List<CoverageRecorded>>($"/api/patients/{_patient}/coverages"));
        Assert.Equal((CoveragePriority.Primary, 20m), (coverage.Priority, coverage.CoinsurancePercent));
    }

    [Fact]
    public async Task six_approved_sessions_count_down_and_a_seventh_is_flagged_beyond_the_count()
    {
        var requested = await Request();
        Assert.Equal("requested", requested.Status);
        await Approve(requested.Id);

        for (var i = 0; i < 7; i++) await InsuredSession(20 - i * 2);

        var view = Assert.Single(await Fixture.Get<List<AuthorizationView>>($"/api/prior-authorizations?patientId={_patient}"));
        Assert.Equal((7, 0, "PA-55123", Today.AddDays(30)), (view.Used, view.Remaining, view.AuthorizationNumber, view.ValidTo!.Value));
        Assert.Equal(6, view.Uses.Count(u => u.Flag == AuthorizationFlag.None));
        Assert.Equal(AuthorizationFlag.BeyondApprovedCount, view.Uses.Last().Flag);
    }

    [Fact]
    public async Task a_session_outside_the_window_or_without_an_authorization_is_flagged_too()
    {
        var noAuthorization = await InsuredSession(40);
        var requested = await Request();
        await Approve(requested.Id);
        var outside = await InsuredSession(35);
        var inside = await InsuredSession(3);

        var authorization = await Fixture.Get<AuthorizationView>($"/api/prior-authorizations/{requested.Id}");
        Assert.Equal([(outside.SessionId, AuthorizationFlag.OutsideWindow), (inside.SessionId, AuthorizationFlag.None)],
            authorization.Uses.Select(u => (u.SessionId, u.Flag)));

        // The account shows each session's authorization and raises the flagged ones before any claim is filed.
        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal(
            [(noAuthorization.SessionId, AuthorizationFlag.NoAuthorization, null), (outside.SessionId, AuthorizationFlag.OutsideWindow, "PA-55123"),
                (inside.SessionId, AuthorizationFlag.None, "PA-55123")],
            balance.Sessions.Select(s => (s.SessionId, s.AuthorizationFlag!.Value, s.AuthorizationNumber)));
        Assert.Equal(2, balance.Alerts.Count(a => a.Kind == "authorization"));
    }

    [Fact]
    public async Task illegal_state_changes_are_409_and_extending_adds_sessions()
    {
        var requested = await Request();
        await Fixture.Post<ProblemDetails>($"/api/prior-authorizations/{requested.Id}/extend", new ExtendPriorAuthorization(Guid.NewGuid(), 2, Today.AddDays(60)), 409);
        await Approve(requested.Id);
        await Fixture.Post<ProblemDetails>($"/api/prior-authorizations/{requested.Id}/approve",
            new ApprovePriorAuthorization("PA-2", 6, null, Today, Today.AddDays(1)), 409);
        await Fixture.Post<ProblemDetails>($"/api/prior-authorizations/{requested.Id}/deny", new DenyPriorAuthorization("late"), 409);

        var extended = await Fixture.AndWaitForCascades(() =>
            Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{requested.Id}/extend", new ExtendPriorAuthorization(Guid.NewGuid(), 3, Today.AddDays(60)), 200));
        var expired = await Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{requested.Id}/expire", new { }, 200);

        Assert.Equal((9, Today.AddDays(60)), (extended.SessionsApproved, extended.ValidTo!.Value));
        Assert.Equal("expired", expired.Status);
        await Fixture.Post<ProblemDetails>($"/api/prior-authorizations/{Guid.NewGuid()}/approve",
            new ApprovePriorAuthorization("X", 1, null, Today, Today), 404);
    }

    [Fact]
    public async Task an_extension_replayed_under_its_id_adds_nothing_and_the_same_id_with_other_content_is_409()
    {
        var requested = await Request();
        await Approve(requested.Id);
        var extension = new ExtendPriorAuthorization(Guid.NewGuid(), 3, Today.AddDays(60));
        var url = $"/api/prior-authorizations/{requested.Id}/extend";

        var first = await Fixture.AndWaitForCascades(() => Fixture.Post<AuthorizationView>(url, extension, 200));
        var replay = await Fixture.AndWaitForCascades(() => Fixture.Post<AuthorizationView>(url, extension, 200));
        var other = await Fixture.Post<ProblemDetails>(url, extension with { AdditionalSessions = 4 }, 409);
        var missing = await Fixture.Post<ValidationProblemDetails>(url, extension with { ExtensionId = Guid.Empty }, 400);

        Assert.Equal((9, Today.AddDays(60)), (first.SessionsApproved, first.ValidTo!.Value));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(first), System.Text.Json.JsonSerializer.Serialize(replay));
        Assert.Contains(extension.ExtensionId.ToString(), other.Detail);
        Assert.Equal(["extensionId"], missing.Errors.Keys);
        var extended = (await Fixture.EventsOf(requested.Id)).Select(e => e.Data).OfType<PriorAuthorizationExtended>().ToList();
        Assert.Equal(extension.ExtensionId, Assert.Single(extended).ExtensionId);
    }

    [Fact]
    public async Task a_request_needs_coverage_with_the_payer()
    {
        var otherPayer = await Fixture.Payer("Lakeshore Mutual", "LSM22");

        var refused = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RequestPriorAuthorization(Guid.NewGuid(), _patient, otherPayer, ["96365"], 6, ["F33.2"], null, null))
                .ToUrl("/api/prior-authorizations");
            s.StatusCodeShouldBe(422);
        });

        Assert.Contains("no coverage", await refused.ReadAsTextAsync());
    }

    [Fact]
    public void the_choice_prefers_an_authorization_with_room_in_its_window()
    {
        var session = new InsuredSessionDelivered(Guid.NewGuid(), Guid.NewGuid(), new DateOnly(2026, 5, 10), ["96365"]);
        PriorAuthorization Approved(DateOnly from, DateOnly to, int sessions, int used) => new()
        {
            Id = Guid.NewGuid(), Status = AuthorizationStatus.Approved, CodesApproved = ["96365"], SessionsApproved = sessions, ValidFrom = from, ValidTo = to,
            Uses = Enumerable.Range(0, used).Select(i => new AuthorizationUse(Guid.NewGuid(), from, i + 1, AuthorizationFlag.None)).ToList()
        };
        var full = Approved(new DateOnly(2026, 5, 1), new DateOnly(2026, 5, 31), 6, 6);
        var room = Approved(new DateOnly(2026, 5, 5), new DateOnly(2026, 6, 30), 6, 2);
        var other = Approved(new DateOnly(2026, 5, 1), new DateOnly(2026, 5, 31), 6, 0);
        other.CodesApproved = ["G2082"];

        Assert.Equal((room, AuthorizationFlag.None), CountAuthorizedSessionHandler.Choose([full, room, other], session));
        Assert.Equal((full, AuthorizationFlag.BeyondApprovedCount), CountAuthorizedSessionHandler.Choose([full, other], session));
        Assert.Equal((null, AuthorizationFlag.NoAuthorization), CountAuthorizedSessionHandler.Choose([other], session));
    }

    [Fact]
    public async Task sessions_delivered_while_the_request_was_pending_are_counted_when_it_is_approved_and_a_void_gives_its_use_back()
    {
        var requested = await Request();
        var early = await InsuredSession(10);
        Assert.Equal(AuthorizationFlag.NoAuthorization, (await Fixture.BalanceOf(_patient)).Sessions.Single().AuthorizationFlag);

        await Approve(requested.Id, sessions: 2);
        var view = await Fixture.Get<AuthorizationView>($"/api/prior-authorizations/{requested.Id}");
        Assert.Equal((1, 1), (view.Used, view.Remaining));
        Assert.Equal(AuthorizationFlag.None, (await Fixture.BalanceOf(_patient)).Sessions.Single().AuthorizationFlag);

        // The authorization lets the session go in the void's cascade.
        await Fixture.AndWaitForCascades(() => Fixture.Post<object>($"/api/patients/{_patient}/sessions/{early.SessionId}/void", new VoidSession("entered in error"), 200));
        view = await Fixture.Get<AuthorizationView>($"/api/prior-authorizations/{requested.Id}");
        Assert.Equal((0, 2), (view.Used, view.Remaining));
    }
}
