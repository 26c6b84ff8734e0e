using Alba;
using Marten;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Base of the end-to-end tests: each test starts from empty event data, with the accounts kept.</summary>
public abstract class IntegrationContext(AppFixture fixture) : IAsyncLifetime
{
    protected AppFixture Fixture { get; } = fixture;

    protected IAlbaHost Host => Fixture.Host;

    protected IDocumentStore Store => Fixture.Store;

    /// <summary>The platform's own documents (accounts, clinics, rebuild jobs).</summary>
    protected KetamineBilling.Infrastructure.IGlobalStore Global => Fixture.Global;

    public virtual async ValueTask InitializeAsync() => await Fixture.ResetDataAsync();

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
