using Marten;
using Marten.Services;
using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Marten's default logger writes a failed command's parameter values, and those can be a patient's name
/// (a search) or date of birth. This one logs the SQL text, which holds placeholders only, and the error.
/// Npgsql already leaves row values out of PostgreSQL's error details unless the connection string asks.
/// </summary>
public sealed class RedactingMartenLogger(ILogger<RedactingMartenLogger> logger) : IMartenLogger, IMartenSessionLogger
{
    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql) => logger.LogInformation("Marten applied a schema change ({Length} characters of DDL)", sql.Length);

    public void LogSuccess(NpgsqlCommand command)
    {
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
    }

    public void LogFailure(NpgsqlCommand command, Exception ex) =>
        logger.Log(LevelOf(ex), ex, "PostgreSQL command failed: {Sql}", command.CommandText);

    public void LogFailure(NpgsqlBatch batch, Exception ex) =>
        logger.Log(LevelOf(ex), ex, "PostgreSQL batch failed: {Sql}", string.Join("; ", batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.CommandText)));

    /// <summary>
    /// A version conflict is an expected answer (the API returns 409, a handler retries), not an error: it is logged as
    /// information so that errors stay rare enough to be read. Everything else is an error.
    /// </summary>
    private static LogLevel LevelOf(Exception ex) =>
        ex is PostgresException { SqlState: "MT003" } or JasperFx.Events.EventStreamUnexpectedMaxEventIdException || ProblemExceptionHandler.Classify(ex).Status == StatusCodes.Status409Conflict
            ? LogLevel.Information
            : LogLevel.Error;

    public void LogFailure(Exception ex, string message) => logger.LogError(ex, "Marten failure: {Message}", message);

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command)
    {
    }

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
    }
}
