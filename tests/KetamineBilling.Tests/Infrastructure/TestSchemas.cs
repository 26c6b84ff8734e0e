using KetamineBilling.Infrastructure;
using Npgsql;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// A host with schemas of its own (an app process, a production node) leaves them in the master database (its clinics',
/// messaging, global and registry schemas) and in each clinic database (its clinics', messaging and partition schemas):
/// the test drops them all when it ends.
/// </summary>
public static class TestSchemas
{
    public static async Task DropAsync(string masterConnectionString, string schema, string messagingSchema)
    {
        var (global, tenancy, partitions) = Persistence.SchemasBeside(schema);
        var names = new[] { schema, messagingSchema, global, tenancy, partitions };
        foreach (var database in new[] { masterConnectionString, ClinicDatabases.Beside(masterConnectionString, ClinicDatabases.Shared),
                     ClinicDatabases.Beside(masterConnectionString, ClinicDatabases.Group) })
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand(string.Join("; ", names.Select(n => $"drop schema if exists {n} cascade")), connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
