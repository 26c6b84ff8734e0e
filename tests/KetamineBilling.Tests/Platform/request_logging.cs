using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

public class request_logging(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task every_response_carries_a_correlation_id_made_when_the_caller_sends_none()
    {
        var made = await Host.Scenario(s => s.Get.Url("/health/live"));
        var kept = await Host.Scenario(s =>
        {
            s.WithRequestHeader("X-Correlation-ID", "caller-chosen-1");
            s.Get.Url("/health/live");
        });
        var unsafeOne = await Host.Scenario(s =>
        {
            s.WithRequestHeader("X-Correlation-ID", "<script>alert(1)</script>");
            s.Get.Url("/health/live");
        });

        Assert.Matches("^[0-9a-f]{32}$", made.Context.Response.Headers["X-Correlation-ID"].ToString());
        Assert.Equal("caller-chosen-1", kept.Context.Response.Headers["X-Correlation-ID"].ToString());
        Assert.Matches("^[0-9a-f]{32}$", unsafeOne.Context.Response.Headers["X-Correlation-ID"].ToString());
    }

    [Fact]
    public async Task request_logs_carry_the_correlation_id()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.WithRequestHeader("X-Correlation-ID", "log-trace-77");
            s.Get.Url("/api/fee-schedule");
        });

        // The request's log line is written as the pipeline unwinds, which can be a moment after the response arrived.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!Fixture.Logs.Lines.Any(l => l.Contains("/api/fee-schedule") && l.Contains("log-trace-77")) && DateTime.UtcNow < deadline)
            await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Contains(Fixture.Logs.Lines, l => l.Contains("/api/fee-schedule") && l.Contains("log-trace-77"));
    }

    [Fact]
    public async Task no_patient_name_birth_date_or_diagnosis_reaches_the_logs()
    {
        const string first = "Zebulon", last = "Quixotewright", diagnosis = "F43.10";
        var born = new DateOnly(1973, 2, 19);
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient(first, last, born);
        var session = Scenarios.Session() with { DiagnosisCodes = [diagnosis] };
        await Fixture.DeliveredSession(patient, session);
        // The failure paths log too: a conflict, a validation failure, a search by name, an unreadable body.
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(session with { DurationMinutes = 90 }).ToUrl($"/api/patients/{patient}/sessions");
            s.StatusCodeShouldBe(409);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RegisterPatient(first, last, new DateOnly(2999, 1, 1), null, null)).ToUrl("/api/patients");
            s.StatusCodeShouldBe(400);
        });
        await Fixture.Call(As.Billing, s => s.Get.Url($"/api/patients?search={last}"));
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text($"{{\"firstName\": \"{first}\", \"dateOfBirth\": \"{born:yyyy-MM-dd}\", ").ToUrl("/api/patients");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(400);
        });

        var lines = Fixture.Logs.Lines;
        Assert.NotEmpty(lines);
        foreach (var secret in new[] { first, last, born.ToString("yyyy-MM-dd") })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
        // A diagnosis code is matched as written (upper case, not inside a longer code or hex run): compared without
        // case, "f4310" turned up inside another test's lower-case GUID once in CI and failed the run for nothing.
        foreach (var code in new[] { diagnosis, "F4310" })
        {
            var written = new System.Text.RegularExpressions.Regex($@"(?<![0-9A-Za-z]){System.Text.RegularExpressions.Regex.Escape(code)}(?![0-9A-Za-z])");
            Assert.DoesNotContain(lines, l => written.IsMatch(l));
        }
    }
}
