using JasperFx.CommandLine;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Auth;

public class AddUserInput : NetCoreInput
{
    [Description("The account's email, used to sign in")]
    public string Email { get; set; } = "";

    [Description("BillingAdmin, Finance or Employer")]
    public string Role { get; set; } = "";

    [Description("For an Employer account: the one employer id it may see"), FlagAlias("employer")]
    public Guid? EmployerFlag { get; set; }

    [Description("The name shown in the UI"), FlagAlias("name")]
    public string? NameFlag { get; set; }
}

/// <summary>
/// Creates a local account outside Development (where no demo accounts exist): the first administrator of
/// a new installation. The password comes from KB_USER_PASSWORD or the first line of standard input, never
/// from the command line, which shell history and process lists would keep.
/// </summary>
[Description("Creates a local account: add-user EMAIL ROLE [--employer ID] [--name NAME]; password from KB_USER_PASSWORD or stdin", Name = "add-user")]
public class AddUserCommand : JasperFxAsyncCommand<AddUserInput>
{
    public const int MinimumPasswordLength = 10;

    public override async Task<bool> Execute(AddUserInput input)
    {
        if (!Roles.All.Contains(input.Role))
        {
            Console.Error.WriteLine($"role must be one of {string.Join(", ", Roles.All)}");
            return false;
        }

        if (input.Role == Roles.Employer != input.EmployerFlag.HasValue)
        {
            Console.Error.WriteLine("an Employer account needs --employer ID, and only an Employer account takes one");
            return false;
        }

        var password = Environment.GetEnvironmentVariable("KB_USER_PASSWORD") ?? Console.In.ReadLine() ?? "";
        if (password.Length < MinimumPasswordLength)
        {
            Console.Error.WriteLine($"the password must have at least {MinimumPasswordLength} characters");
            return false;
        }

        using var host = input.BuildHost();
        var accounts = host.Services.GetRequiredService<UserAccounts>();
        if (await accounts.FindAsync(input.Email, CancellationToken.None) is not null)
        {
            Console.Error.WriteLine($"an account for {input.Email} exists already");
            return false;
        }

        var user = await accounts.EnsureAsync(input.Email, input.NameFlag ?? input.Email, password, [input.Role],
            input.EmployerFlag, DateTimeOffset.UtcNow, CancellationToken.None);
        Console.WriteLine($"created {user.Email} ({input.Role}) with id {user.Id}");
        return true;
    }
}
