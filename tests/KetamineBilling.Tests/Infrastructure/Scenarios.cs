using Alba;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>The setup language of the end-to-end tests: each step goes through the real API.</summary>
public static class Scenarios
{
    /// <summary>An HTTP call as the given account (null: no token). The scenario states the status it expects.</summary>
    public static async Task<IScenarioResult> Call(this AppFixture fixture, string? user, Action<Scenario> configure)
    {
        var token = user is null ? null : await fixture.TokenFor(user);
        return await fixture.Host.Scenario(s =>
        {
            if (token is not null)
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
            }

            configure(s);
        });
    }

    /// <summary>POSTs a body as billing and reads the answer, after checking its status.</summary>
    public static async Task<T> Post<T>(this AppFixture fixture, string url, object body, int status = 201, string user = As.Billing)
    {
        var result = await fixture.Call(user, s =>
        {
            s.Post.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<T>())!;
    }

    /// <summary>PUTs a body as billing and reads the answer, after checking its status.</summary>
    public static async Task<T> Put<T>(this AppFixture fixture, string url, object body, int status = 200, string user = As.Billing)
    {
        var result = await fixture.Call(user, s =>
        {
            s.Put.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<T>())!;
    }

    /// <summary>Waits until the clinic's async read models have caught up with its events (the worklist, aging, KPIs trail the ledger).</summary>
    public static Task CaughtUp(this AppFixture fixture) =>
        fixture.Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

    /// <summary>A read of an async read model once it has caught up with every event so far.</summary>
    public static async Task<T> GetCaughtUp<T>(this AppFixture fixture, string url, string user = As.Billing)
    {
        await fixture.CaughtUp();
        return await fixture.Get<T>(url, user);
    }

    public static async Task<T> Get<T>(this AppFixture fixture, string url, string user = As.Billing)
    {
        var result = await fixture.Call(user, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<T>())!;
    }

    public static async Task<Guid> RegisteredPatient(
        this AppFixture fixture, string firstName = "Alex", string lastName = "Tester", DateOnly? dateOfBirth = null)
    {
        var result = await fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RegisterPatient(firstName, lastName, dateOfBirth ?? new DateOnly(1985, 5, 17), null, null)).ToUrl("/api/patients");
            s.StatusCodeShouldBe(201);
        });
        return (await result.ReadAsJsonAsync<PatientCreated>())!.Id;
    }

    public static async Task PricedCode(
        this AppFixture fixture, string code, decimal price, DateOnly? effectiveFrom = null, string description = "Test service")
    {
        await fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetFeePrice(description, price, effectiveFrom ?? new DateOnly(2020, 1, 1))).ToUrl($"/api/fee-schedule/{code}");
            s.StatusCodeShouldBeOk();
        });
    }

    /// <summary>Today in the clinics' default zone (America/Chicago), as the app's calendar counts it: UTC's date is a day ahead from 18:00 there.</summary>
    public static DateOnly ClinicToday => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("America/Chicago")));

    public static DeliverSession Session(
        Guid? sessionId = null, DateOnly? deliveredOn = null, params (string Code, int Units)[] lines) =>
        new(sessionId ?? Guid.NewGuid(),
            deliveredOn ?? ClinicToday.AddDays(-3),
            45,
            "main-clinic",
            (lines.Length == 0 ? [("96365", 1)] : lines).Select(l => new SessionLineInput(l.Code, l.Units)).ToList(),
            ["F33.2"],
            AppFixture.ProviderId);

    /// <summary>
    /// Delivers a session as a client does: one request, which must be accepted (201). A race with the cascade of the
    /// previous write on the same account (an employer, grant or study share being recorded) is the server's to decide
    /// again, never a 409 the client has to retry.
    /// </summary>
    public static async Task<SessionCharge> DeliveredSession(this AppFixture fixture, Guid patientId, DeliverSession session)
    {
        var result = await fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session).ToUrl($"/api/patients/{patientId}/sessions");
            s.IgnoreStatusCode();
        });
        var status = result.Context.Response.StatusCode;
        Assert.True(status == 201, $"session: {status} {await result.ReadAsTextAsync()}");
        return (await result.ReadAsJsonAsync<SessionCharge>())!;
    }

    public static async Task<PatientBalance> BalanceOf(this AppFixture fixture, Guid patientId)
    {
        var result = await fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{patientId}/balance");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<PatientBalance>())!;
    }

    public static async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsOf(this AppFixture fixture, Guid streamId)
    {
        await using var session = fixture.Store.QuerySession(AppFixture.Clinic);
        return await session.Events.FetchStreamAsync(streamId);
    }
}

public static class InsuranceScenarios
{
    public static async Task<Guid> Payer(this AppFixture fixture, string name = "Blue Prairie Health", string x12Id = "BPH01", string kind = "commercial")
    {
        var created = await fixture.Post<KetamineBilling.Features.Payers.PayerCreated>("/api/payers",
            new KetamineBilling.Features.Payers.CreatePayer(name, x12Id, kind, "in-network"));
        return created.Id;
    }

    public static async Task<Guid> Coverage(this AppFixture fixture, Guid patientId, Guid payerId, string memberId = "XJH123456789")
    {
        var coverage = await fixture.Post<KetamineBilling.Features.Patients.CoverageRecorded>($"/api/patients/{patientId}/coverages",
            new KetamineBilling.Features.Patients.RecordCoverage(null, payerId, memberId, "primary", "GRP-7781", CoinsurancePercent: 20m, Copay: 40m,
                ActiveFrom: Scenarios.ClinicToday.AddDays(-365)));
        return coverage.CoverageId;
    }

    /// <summary>Uploads an 835 as billing; it must post (200), and its answer is returned.</summary>
    public static async Task<KetamineBilling.Features.Remittances.RemittanceUpload> PostedRemittance(this AppFixture fixture, string file)
    {
        var result = await fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<KetamineBilling.Features.Remittances.RemittanceUpload>())!;
    }

    /// <summary>Runs an action and waits until every message it cascaded has been handled.</summary>
    public static async Task<T> AndWaitForCascades<T>(this AppFixture fixture, Func<Task<T>> action)
    {
        var result = default(T);
        await Wolverine.Tracking.WolverineHostMessageTrackingExtensions.ExecuteAndWaitAsync(fixture.Host, async () => { result = await action(); }, 30_000);
        return result!;
    }
}
