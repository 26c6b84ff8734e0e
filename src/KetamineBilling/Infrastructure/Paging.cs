using Marten;
using Marten.Pagination;

namespace KetamineBilling.Infrastructure;

public static class Paging
{
    /// <summary>
    /// The page asked for, checked: <paramref name="page"/> from 1, <paramref name="pageSize"/> between 1 and
    /// <paramref name="maxPageSize"/> (a list is never cut silently: a larger page is refused naming the field).
    /// </summary>
    public static (int Page, int PageSize) Check(ValidationProblems problems, int? page, int? pageSize, int defaultPageSize, int maxPageSize)
    {
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 || pageSize > maxPageSize) problems.Add("pageSize", $"must be between 1 and {maxPageSize}");
        return (page ?? 1, pageSize ?? defaultPageSize);
    }

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
