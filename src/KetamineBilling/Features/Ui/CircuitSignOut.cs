namespace KetamineBilling.Features.Ui;

/// <summary>
/// Why this circuit's sign-in is about to end, when the circuit itself ended it: changing one's own password revokes every
/// sign-in, this browser's too, and the periodic revalidation may notice before the page's own redirect runs. Whichever
/// sends the browser to sign in then says why ("changed"), never a bare sign-in page.
/// </summary>
public sealed class CircuitSignOut
{
    public string? Reason { get; set; }
}
