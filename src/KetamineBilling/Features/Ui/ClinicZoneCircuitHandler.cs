using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace KetamineBilling.Features.Ui;

/// <summary>
/// A page's dates and "today" are its clinic's: every event of a Blazor circuit (a click, a navigation, its start) runs in
/// the time zone of the clinic the signed-in user acts for, as a request does (<see cref="ClinicContextMiddleware"/>).
/// </summary>
public sealed class ClinicZoneCircuitHandler(AuthenticationStateProvider authentication, ClinicZones zones) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            var user = (await authentication.GetAuthenticationStateAsync()).User;
            if (await ClinicContextMiddleware.ZoneOfAsync(user, zones, CancellationToken.None) is { } zone)
            {
                using (ClinicCalendar.Use(zone)) await next(context);
                return;
            }

            await next(context);
        };
}
