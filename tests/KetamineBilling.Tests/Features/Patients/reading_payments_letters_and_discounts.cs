using Alba;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>Issue 15: the reads behind the account's money screens (payments, discounts, letters, out-of-network reimbursements), paged.</summary>
public class reading_payments_letters_and_discounts(AppFixture fixture) : IntegrationContext(fixture)
{
    private Guid _patient;
    private string Url(string tail) => $"/api/patients/{_patient}/{tail}";
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450.00m);
        _patient = await Fixture.RegisteredPatient();
    }

    private async Task<Guid> Session(int daysAgo) =>
        (await Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: Today.AddDays(-daysAgo), lines: [("96365", 1)]))).SessionId;

    [Fact]
    public async Task payments_come_newest_first_a_page_at_a_time_with_what_they_pay_and_whether_they_were_reversed()
    {
        var session = await Session(5);
        var older = await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "check", 100m, Today.AddDays(-2), "1001"));
        await Fixture.Post<object>(Url($"payments/{older.PaymentId}/reverse"), new ReversePayment("Bounced check", null), 200);
        var newer = await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "card", 500m, Today, "4242"));

        var first = await Fixture.Get<AccountPage<PaymentView>>(Url("payments?page=1&pageSize=1"));
        Assert.Equal((2L, 1, 1), (first.TotalCount, first.Page, first.PageSize));
        var card = Assert.Single(first.Items);
        Assert.Equal((newer.PaymentId, 450m, 50m, false), (card.PaymentId, card.Applied, card.Unapplied, card.Reversed));
        Assert.Equal([Today.AddDays(-5)], card.Sessions);

        var second = Assert.Single((await Fixture.Get<AccountPage<PaymentView>>(Url("payments?page=2&pageSize=1"))).Items);
        Assert.Equal((older.PaymentId, PaymentMethod.Check, true, 0m), (second.PaymentId, second.Method, second.Reversed, second.Applied));
        Assert.Empty((await Fixture.Get<AccountPage<PaymentView>>(Url("payments?page=3&pageSize=1"))).Items);
        Assert.NotEqual(Guid.Empty, session);
    }

    [Fact]
    public async Task discounts_list_the_sliding_scale_band_and_the_sessions()
    {
        var session = await Session(3);
        await Fixture.Post<object>(Url("discounts"), new GrantDiscount(Guid.NewGuid(), "sliding-scale", null, null, "fpg-201-300", session, null, "Household income"));

        var discount = Assert.Single((await Fixture.Get<AccountPage<DiscountView>>(Url("discounts"))).Items);
        Assert.Equal((DiscountBasis.SlidingScale, "fpg-201-300", 30m, 135.00m), (discount.Basis, discount.IncomeBand, discount.Value, discount.Total));
        Assert.Equal([Today.AddDays(-3)], discount.Sessions);
    }

    [Fact]
    public async Task a_letter_says_whether_it_is_valid_today_and_which_fsa_and_hsa_payments_it_covers()
    {
        var covered = await Session(10);
        await Session(400);
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "fsa", 900m, Today, null));
        await Fixture.Post<PaymentResult>(Url("payments"), new RecordPayment(Guid.NewGuid(), "card", 10m, Today, null));
        var current = Guid.NewGuid();
        await Fixture.Post<object>(Url("medical-necessity-letters"), new RecordLetterOfMedicalNecessity(current, "Depression", "IV ketamine", "weekly",
            Today.AddDays(-30), Today.AddDays(300), AppFixture.ProviderId));
        var old = Guid.NewGuid();
        await Fixture.Post<object>(Url("medical-necessity-letters"), new RecordLetterOfMedicalNecessity(old, "Depression", "IV ketamine", "weekly",
            Today.AddDays(-800), Today.AddDays(-500), AppFixture.ProviderId));

        var letters = (await Fixture.Get<AccountPage<LetterView>>(Url("medical-necessity-letters"))).Items;
        Assert.Equal([current, old], letters.Select(l => l.LetterId));
        Assert.Equal(["valid", "expired"], letters.Select(l => l.Status));
        var covers = Assert.Single(letters[0].Covers);
        Assert.Equal((PaymentMethod.Fsa, 450m), (covers.Method, covers.Amount)); // the other 450 paid the session of 400 days ago, outside its dates
        Assert.Equal([Today.AddDays(-10)], covers.DatesOfService);
        Assert.Empty(letters[1].Covers);
        Assert.NotEqual(Guid.Empty, covered);
    }

    [Fact]
    public async Task reported_reimbursements_are_listed_and_an_unknown_patient_is_a_404()
    {
        var session = await Session(7);
        var payer = await Fixture.Payer("Faraway Indemnity", "FAR99");
        await Fixture.Post<object>(Url("out-of-network-reimbursements"), new ReportOutOfNetworkReimbursement(Guid.NewGuid(), payer, 280m, Today, [session]));

        var reported = Assert.Single((await Fixture.Get<AccountPage<ReimbursementView>>(Url("out-of-network-reimbursements"))).Items);
        Assert.Equal((payer, 280m, Today), (reported.PayerId, reported.Amount, reported.ReceivedOn));
        Assert.Equal([Today.AddDays(-7)], reported.DatesOfService);

        foreach (var list in new[] { "payments", "discounts", "medical-necessity-letters", "out-of-network-reimbursements" })
        {
            await Fixture.Call(As.Billing, s =>
            {
                s.Get.Url($"/api/patients/{Guid.NewGuid()}/{list}");
                s.StatusCodeShouldBe(404);
            });
            await Fixture.Call(As.Finance, s =>
            {
                s.Get.Url(Url(list));
                s.StatusCodeShouldBe(403);
            });
        }
    }
}
