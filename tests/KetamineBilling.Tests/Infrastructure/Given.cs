using System.Reflection;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// Host-less "given events" for decision tests: builds an aggregate the way its snapshot projection does, by its
/// static <c>Create(firstEvent)</c> and then <c>Apply(event)</c> for each later event, without a database.
/// </summary>
public static class Given
{
    public static T Aggregate<T>(params object[] events) where T : class
    {
        if (events.Length == 0) throw new ArgumentException("at least the event that starts the stream", nameof(events));
        var create = typeof(T).GetMethod("Create", BindingFlags.Public | BindingFlags.Static, [events[0].GetType()])
                     ?? throw new InvalidOperationException($"{typeof(T).Name} has no Create({events[0].GetType().Name})");
        var aggregate = (T)create.Invoke(null, [events[0]])!;
        foreach (var e in events.Skip(1)) Apply(aggregate, e);
        return aggregate;
    }

    /// <summary>Applies more events to an aggregate built before.</summary>
    public static T Then<T>(this T aggregate, params object[] events) where T : class
    {
        foreach (var e in events) Apply(aggregate, e);
        return aggregate;
    }

    private static void Apply<T>(T aggregate, object e) where T : class
    {
        var apply = typeof(T).GetMethod("Apply", BindingFlags.Public | BindingFlags.Instance, [e.GetType()])
                    ?? throw new InvalidOperationException($"{typeof(T).Name} has no Apply({e.GetType().Name})");
        apply.Invoke(aggregate, [e]);
    }
}
