using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Every log event the app writes during the run, rendered with its properties and exception.</summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public void Emit(LogEvent logEvent)
    {
        var properties = string.Join(" ", logEvent.Properties.Select(p => $"{p.Key}={p.Value}"));
        _lines.Enqueue($"{logEvent.Level} {logEvent.RenderMessage()} {properties} {logEvent.Exception}");
    }

    public IReadOnlyList<string> Lines => _lines.ToList();
}
