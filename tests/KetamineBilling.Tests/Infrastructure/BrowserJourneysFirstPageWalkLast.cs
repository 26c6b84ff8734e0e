using Xunit.Sdk;
using Xunit.v3;

[assembly: TestCollectionOrderer(typeof(KetamineBilling.Tests.Infrastructure.BrowserJourneysFirstPageWalkLast))]

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// The runner starts one test collection per core (two here) and the next when one ends. The browser journeys (about ten
/// minutes in one collection) start first, the API and platform tests run beside them, and the page walk (about six minutes,
/// its own app) comes last, on the thread they free. Left to the default order, the journeys started after the API tests
/// and the suite took ten minutes longer.
/// </summary>
public sealed class BrowserJourneysFirstPageWalkLast : ITestCollectionOrderer
{
    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection
    {
        var ordered = DefaultTestCollectionOrderer.Instance.OrderTestCollections(testCollections);
        return [.. ordered.Where(c => c.TestCollectionDisplayName == "browser"),
            .. ordered.Where(c => c.TestCollectionDisplayName is not ("browser" or "browser-walk")),
            .. ordered.Where(c => c.TestCollectionDisplayName == "browser-walk")];
    }
}
