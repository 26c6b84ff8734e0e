using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace KetamineBilling.Features.Ui;

/// <summary>
/// A page's dates and "today" are its clinic's: every event of a Blazor circuit (a click, a navigation, its start) runs in
/// the time zone of the clinic the signed-in user acts for, as a request does (<see cref="ClinicContextMiddleware"/>).
/// </summary>
/// <remarks>
/// It never waits before passing an event on: the circuit's events are handed over one after another without waiting for
/// each other, so a wait here (a database read) would let a later event (Enter) overtake an earlier one (the text typed).
/// The zone is the one this node keeps (<see cref="ClinicZones.Known"/>): the page's first request, prerendered on this
/// node, loaded it; the circuit's start loads it again if it is not kept.
/// </remarks>
public sealed class ClinicZoneCircuitHandler(AuthenticationStateProvider authentication, ClinicZones zones) : CircuitHandler
{
    private string? _clinic;

    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        _clinic = user.Identity?.IsAuthenticated == true ? user.FindFirst(UserClaims.Clinic)?.Value : null;
        await ClinicContextMiddleware.ZoneOfAsync(user, zones, cancellationToken);
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            // Nothing awaited before the event is passed on (see the remarks).
            if (ClinicOf() is { } clinic && zones.Known(clinic) is { } zone)
            {
                using (ClinicCalendar.Use(zone)) await next(context);
                return;
            }

            await next(context);
        };

    private string? ClinicOf()
    {
        if (_clinic is not null) return _clinic;
        // Before the circuit's start was told (its first events): the user as the circuit has it, if it is known already.
        var state = authentication.GetAuthenticationStateAsync();
        return state.IsCompletedSuccessfully && state.Result.User.Identity?.IsAuthenticated == true ? state.Result.User.FindFirst(UserClaims.Clinic)?.Value : null;
    }
}
