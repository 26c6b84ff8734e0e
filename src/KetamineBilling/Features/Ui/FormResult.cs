namespace KetamineBilling.Features.Ui;

/// <summary>What a form dialog's command came to: the data the dialog returns, or the problem the API named.</summary>
public sealed record FormResult(string? Error, object? Data = null)
{
    public static FormResult Of<T>(ApiResult<T> result, Func<T, object?>? data = null) =>
        result.Ok ? new FormResult(null, data is null ? result.Value : data(result.Value!)) : new FormResult(result.Problem ?? "The request was refused.");
}
