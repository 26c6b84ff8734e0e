using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>A test-only event no real projection would accept: the projection below fails on it, as a bug would.</summary>
public sealed record ProjectionPoison(Guid Id, string Why);

/// <summary>An async projection that fails on <see cref="ProjectionPoison"/>, to prove a failing shard stops and is reported.</summary>
public partial class PoisonedProjection : EventProjection
{
    public const string ProjectionName = "PoisonedForTests";

    public PoisonedProjection() => Name = ProjectionName;

    public void Project(ProjectionPoison e, IDocumentOperations ops) => throw new InvalidOperationException($"poisoned: {e.Why}");
}
