using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Providers;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// Text that reaches an 837 is refused at input when it holds an X12 delimiter (400 naming the field, nothing written);
/// a paper EOB follows the 835's amount rules.
/// </summary>
public class refusing_bad_claim_input(AppFixture fixture) : IntegrationContext(fixture)
{
    private Guid _patient, _payer, _authorization;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _patient = await Fixture.RegisteredPatient("Delia", "Mitter");
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        _authorization = (await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), _patient, _payer,
            ["96365"], 6, ["F33.2"], null, null))).Id;
    }

    private async Task<int> Events()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return (await session.Events.QueryAllRawEvents().ToListAsync(TestContext.Current.CancellationToken)).Count;
    }

    private async Task<ValidationProblemDetails> Refused(string method, string url, object body)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            (method == "PUT" ? s.Put : s.Post).Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(400);
        });
        return (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
    }

    public static TheoryData<string, string> Fields() => new()
    {
        { "firstName", "~" }, { "lastName", "*" }, { "address.line1", ":" }, { "address.line2", "^" }, { "address.city", "\n" },
        { "memberId", "*" }, { "groupNumber", "~" }, { "subscriber.firstName", ":" }, { "subscriber.lastName", "^" },
        { "payer.name", "~" }, { "provider.name", "*" }, { "authorizationNumber", ":" }, { "description", "^" }
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task an_x12_delimiter_in_text_sent_in_an_837_is_a_400_naming_the_field(string field, string delimiter)
    {
        string Text(string name, string value) => name == field ? $"A{delimiter}B" : value;
        var address = new PostalAddress(Text("address.line1", "12 Main St"), Text("address.line2", "Suite 4"), Text("address.city", "Springfield"), "IL", "62701");
        var (method, url, body, key) = field switch
        {
            "firstName" or "lastName" or "address.line1" or "address.line2" or "address.city" =>
                ("POST", "/api/patients", (object)new RegisterPatient(Text("firstName", "Ann"), Text("lastName", "Lee"), new DateOnly(1980, 1, 2), null, null, address), field),
            "memberId" or "groupNumber" or "subscriber.firstName" or "subscriber.lastName" =>
                ("POST", $"/api/patients/{_patient}/coverages", new RecordCoverage(null, _payer, Text("memberId", "M123"), "secondary", Text("groupNumber", "G1"),
                    new Subscriber(Text("subscriber.firstName", "Sam"), Text("subscriber.lastName", "Lee"), null, "spouse")), field),
            "payer.name" => ("POST", "/api/payers", new CreatePayer(Text(field, "Prairie Mutual"), "PM001", "commercial", null), "name"),
            "provider.name" => ("PUT", "/api/providers/dr-delim", new SetProvider(Text(field, "Ana Diaz"), "1234567893", "MD"), "name"),
            "authorizationNumber" => ("POST", $"/api/prior-authorizations/{_authorization}/approve",
                new ApprovePriorAuthorization(Text(field, "PA-1"), 6, null, new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31)), field),
            _ => ("PUT", "/api/fee-schedule/96366", new SetFeePrice(Text(field, "IV infusion, each additional hour"), 100m, null), field)
        };
        var events = await Events();

        var problem = await Refused(method, url, body);

        Assert.Equal([key], problem.Errors.Keys);
        Assert.Contains("X12 delimiters", problem.Errors[key].Single());
        Assert.Equal(events, await Events());
    }

    public static TheoryData<string, PostEob> Eobs() => new()
    {
        { "lines[0].paid", new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, -5m, null, null)]) },
        { "lines[0].paid", new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 5.001m, null, null)]) },
        { "lines[0].allowed", new PostEob(Guid.NewGuid(), null, [new EobLine(1, -330m, 250m, null, null)]) },
        { "lines[0].allowed", new PostEob(Guid.NewGuid(), null, [new EobLine(1, 330.125m, 250m, null, null)]) },
        { "lines[0].adjustments[0].amount", new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 250m, [new EobAdjustment("CO", "45", 199.999m)], null)]) },
        { "totalPaid", new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 250m, null, null), new EobLine(2, null, 50m, null, null)], 250m) },
        { "totalPaid", new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 250m, null, null)], -250m) }
    };

    [Theory]
    [MemberData(nameof(Eobs))]
    public async Task a_paper_eob_with_a_negative_amount_more_than_two_decimals_or_an_inconsistent_total_is_a_400_naming_the_field(string field, PostEob eob)
    {
        var problem = await Refused("POST", $"/api/claims/{Guid.NewGuid()}/eob", eob);

        Assert.Equal([field], problem.Errors.Keys);
    }
}
