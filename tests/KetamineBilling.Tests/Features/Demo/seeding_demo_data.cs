using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace KetamineBilling.Tests.Features.Demo;

public class seeding_demo_data(AppFixture fixture) : IntegrationContext(fixture)
{
    private DemoSeeder Seeder() => new(
        Store,
        Host.Services.GetRequiredService<UserAccounts>(),
        Host.Services.GetRequiredService<ClinicCalendar>(),
        TimeProvider.System,
        new ConfigurationBuilder().Build(),
        NullLogger<DemoSeeder>.Instance);

    private async Task<(int Events, int Balances)> Count()
    {
        await using var session = Store.QuerySession();
        var ct = TestContext.Current.CancellationToken;
        return ((await session.Events.QueryAllRawEvents().ToListAsync(ct)).Count,
            (await session.Query<PatientBalance>().ToListAsync(ct)).Count);
    }

    [Fact]
    public async Task a_second_run_adds_nothing()
    {
        await Seeder().StartAsync(TestContext.Current.CancellationToken);
        var first = await Count();

        await Seeder().StartAsync(TestContext.Current.CancellationToken);

        Assert.Equal(first, await Count());
        Assert.Equal(5, first.Balances);
        Assert.Equal(DemoSeeder.Prices.Count + 5 * (1 + 6), first.Events);
    }

    [Fact]
    public async Task the_demo_world_is_priced_charged_and_its_users_can_sign_in()
    {
        await Seeder().StartAsync(TestContext.Current.CancellationToken);

        var balance = await Fixture.BalanceOf(DemoIds.Patient(1));
        Assert.Equal(6, balance.Sessions.Count);
        Assert.Equal(6 * 510.00m, balance.TotalCharged);
        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        var employer = await accounts.CheckPasswordAsync("hr@northwind.demo.test", DemoSeeder.DefaultPassword, TestContext.Current.CancellationToken);
        Assert.Equal(DemoIds.NorthwindEmployer, employer!.EmployerId);
        Assert.NotNull(await accounts.CheckPasswordAsync("billing@demo.test", DemoSeeder.DefaultPassword, TestContext.Current.CancellationToken));
    }
}
