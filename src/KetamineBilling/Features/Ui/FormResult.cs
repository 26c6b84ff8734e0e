namespace KetamineBilling.Features.Ui;

/// <summary>What a form dialog's command came to: the data the dialog returns, or the problem the API named.</summary>
/// <param name="Errors">The API's field errors, for a dialog that shows them at their fields (<see cref="FormErrors"/>).</param>
/// <param name="Refused">The form's own checks refused it before sending: its fields say why.</param>
public sealed record FormResult(string? Error, object? Data = null, IReadOnlyDictionary<string, string[]>? Errors = null, bool Refused = false)
{
    /// <summary>Not sent: the form's fields show what to change.</summary>
    public static readonly FormResult NotSent = new(null, Refused: true);

    public static FormResult Of<T>(ApiResult<T> result, Func<T, object?>? data = null) =>
        result.Ok
            ? new FormResult(null, data is null ? result.Value : data(result.Value!))
            : new FormResult(result.Problem ?? "The request was refused.", Errors: result.Errors);
}
