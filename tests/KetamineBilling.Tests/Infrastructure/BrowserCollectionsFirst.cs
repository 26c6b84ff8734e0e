using Xunit.Sdk;
using Xunit.v3;

[assembly: TestCollectionOrderer(typeof(KetamineBilling.Tests.Infrastructure.BrowserCollectionsFirst))]

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// The two browser collections (the journeys, about ten minutes, and the page walk, about six) start first, each taking one of
/// the runner's threads (one per core); the API and platform tests share what is left. Started last, the journeys alone
/// made the suite ten minutes longer.
/// </summary>
public sealed class BrowserCollectionsFirst : ITestCollectionOrderer
{
    private static readonly string[] First = ["browser", "browser-walk"];

    public IReadOnlyCollection<TTestCollection> OrderTestCollections<TTestCollection>(IReadOnlyCollection<TTestCollection> testCollections)
        where TTestCollection : ITestCollection
    {
        var rest = DefaultTestCollectionOrderer.Instance.OrderTestCollections(testCollections);
        return [.. rest.Where(c => First.Contains(c.TestCollectionDisplayName)).OrderBy(c => Array.IndexOf(First, c.TestCollectionDisplayName)),
            .. rest.Where(c => !First.Contains(c.TestCollectionDisplayName))];
    }
}
