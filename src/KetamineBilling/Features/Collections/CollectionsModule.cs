using Marten;

namespace KetamineBilling.Features.Collections;

/// <summary>
/// Collections: the clinic's collection agencies (reference data) and the collections desk. The account's own collections
/// events (placement, recoveries, recall, bad-debt recovery, no-show fees) are made by the Patients area, whose stream they are on.
/// </summary>
public static class CollectionsModule
{
    public static void AddCollections(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Schema.For<CollectionAgency>().Index(a => a.Name));
}
