using Marten;
using Marten.Pagination;

namespace KetamineBilling.Infrastructure;

public static class Paging
{
    /// <summary>
    /// One page of a query and the number of every row it matches. Marten's paged list counts with the page's own rows
    /// (a window count), so a page past the end read a total of 0: then the first page of one row counts them. A count never
    /// depends on the page asked.
    /// </summary>
    public static async Task<(IReadOnlyList<T> Items, long TotalCount)> PageAsync<T>(this IQueryable<T> query, int page, int pageSize, CancellationToken ct)
    {
        var results = await query.ToPagedListAsync(page, pageSize, ct);
        var items = results.ToList();
        // The first row's window count is the total (a plain Count over the sorted query fails in Marten's LINQ).
        var total = items.Count == 0 && page > 1 ? (await query.ToPagedListAsync(1, 1, ct)).TotalItemCount : results.TotalItemCount;
        return (items, total);
    }
}
