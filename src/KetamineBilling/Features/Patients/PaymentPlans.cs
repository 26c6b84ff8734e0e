using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

public record InstalmentInput(DateOnly? DueOn, decimal? Amount);

public enum InstalmentStatus { Paid, PartlyPaid, Missed, Due, Upcoming }

public record InstalmentView(int Number, DateOnly DueOn, decimal Amount, decimal PaidTowards, string Status);

public record PaymentPlanView(Guid PlanId, DateOnly AgreedOn, decimal Total, decimal PaidSinceAgreed, int MissedInstalments, IReadOnlyList<InstalmentView> Instalments);

public static class PaymentPlanRules
{
    /// <summary>
    /// Patient payments received on or after a plan's agreement (and by the day asked about) pay its instalments
    /// in order; each payment counts once, toward the earliest plan still owed. An instalment whose due date has
    /// passed without being covered is missed. Computed for a day, never stored: "missed" depends on the day.
    /// </summary>
    public static IReadOnlyList<PaymentPlanView> Views(PatientAccount account, DateOnly asOf)
    {
        var pool = account.Payments
            .Where(p => !p.Reversed && p.ReceivedOn <= asOf)
            .OrderBy(p => p.ReceivedOn)
            .Select(p => (p.ReceivedOn, Left: p.Amount - p.Refunded))
            .ToList();
        var views = new List<PaymentPlanView>();
        foreach (var plan in account.Plans.OrderBy(p => p.AgreedOn).ThenBy(p => p.AgreedAt))
        {
            var taken = Allocation.FillInOrder(Enumerable.Range(0, pool.Count), plan.Total,
                i => pool[i].ReceivedOn < plan.AgreedOn ? 0 : pool[i].Left);
            foreach (var (i, take) in taken) pool[i] = (pool[i].ReceivedOn, pool[i].Left - take);
            views.Add(View(plan, taken.Sum(t => t.Amount), asOf));
        }

        return views;
    }

    private static PaymentPlanView View(PaymentPlanAgreed plan, decimal paid, DateOnly today)
    {
        var instalments = plan.Instalments.OrderBy(i => i.Number).ToList();
        var paidTowards = Allocation.FillInOrder(instalments, paid, i => i.Amount).ToDictionary(x => x.Item.Number, x => x.Amount);
        var views = new List<InstalmentView>();
        foreach (var i in instalments)
        {
            var towards = paidTowards.GetValueOrDefault(i.Number);
            var status = towards == i.Amount ? InstalmentStatus.Paid
                : i.DueOn < today ? InstalmentStatus.Missed
                : i.DueOn == today ? InstalmentStatus.Due
                : towards > 0 ? InstalmentStatus.PartlyPaid
                : InstalmentStatus.Upcoming;
            views.Add(new InstalmentView(i.Number, i.DueOn, i.Amount, towards, status.ToString().ToLowerInvariant()));
        }

        return new PaymentPlanView(plan.PlanId, plan.AgreedOn, plan.Total, paid, views.Count(v => v.Status == "missed"), views);
    }

    /// <summary>What plans already agreed still have to collect, as of a day.</summary>
    public static decimal Scheduled(PatientAccount account, DateOnly asOf) => Views(account, asOf).Sum(v => v.Total - v.PaidSinceAgreed);
}

public static class PaymentPlanQueries
{
    [PhiRead("payment-plans")]
    [WolverineGet("/api/patients/{patientId}/payment-plans"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, DateOnly? asOf, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (account is null) return Problems.NotFound($"patient {patientId} does not exist");
        var day = asOf ?? calendar.Today();
        return Results.Ok(PaymentPlanRules.Views(account, day));
    }
}
