using Alba;
using Marten;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Base of the end-to-end tests: each test starts from empty event data, with the accounts kept.</summary>
public abstract class IntegrationContext(AppFixture fixture) : IAsyncLifetime
{
    protected AppFixture Fixture { get; } = fixture;

    protected IAlbaHost Host => Fixture.Host;

    protected IDocumentStore Store => Fixture.Store;

    public virtual async ValueTask InitializeAsync() => await Fixture.ResetDataAsync();

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
