using Xunit.Sdk;
using Xunit.v3;

[assembly: TestCollectionOrderer(typeof(KetamineBilling.Tests.Infrastructure.BrowserJourneysFirst))]

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// The runner starts one test collection per core (two here) and the next when one ends. The browser collection (the
/// journeys and the page walk, the longest by far) starts first and the API and platform tests share the other thread
/// beside it. Left to the default order, the browser collection started after the API tests and the suite waited for both
/// one after the other.
/// </summary>
public sealed class BrowserJourneysFirst : ITestCollectionOrderer
{
    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection
    {
        var ordered = DefaultTestCollectionOrderer.Instance.OrderTestCollections(testCollections);
        return [.. ordered.Where(c => c.TestCollectionDisplayName == "browser"), .. ordered.Where(c => c.TestCollectionDisplayName != "browser")];
    }
}
