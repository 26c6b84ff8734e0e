using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Tests.Features.Accounts;

/// <summary>
/// The pure decisions behind the account commands, without a host. Accounts are documents: an accepted decision carries
/// the account as it is to be saved (a changed copy, <see cref="Saved{T}"/>) and the answer.
/// </summary>
public class accounts_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly Guid AdminId = Guid.NewGuid();
    private const string Password = "plum-Tractor-41-Ledger";

    private static UserAccount User(Action<UserAccount>? change = null)
    {
        var user = new UserAccount
        {
            Id = Guid.NewGuid(), Email = "ana@clinic.test", NormalizedEmail = "ANA@CLINIC.TEST", DisplayName = "Ana", Roles = [Roles.BillingAdmin],
            CreatedAt = Now.AddDays(-10), SecurityStamp = "OLD", PasswordHash = "hash"
        };
        change?.Invoke(user);
        return user;
    }

    private static Saved<UserAccount> SavedAccount(Outcome outcome) => Assert.IsType<Saved<UserAccount>>(Assert.IsType<Outcome.Accepted>(outcome).Answer);

    private static Outcome.Rejected Rejected(Outcome outcome, int status)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        return rejected;
    }

    [Fact]
    public void changing_ones_password_names_the_new_one_for_the_handler_to_hash()
    {
        var user = User();
        var saved = SavedAccount(ChangeOwnPasswordEndpoint.Decide(user, new ChangeOwnPassword("old password here", Password), true, Now));
        Assert.Equal((Password, Now, (object?)null), (saved.NewPassword, saved.Document.ChangedAt, saved.Answer));
        Assert.Null(user.ChangedAt);
    }

    [Fact]
    public void changing_ones_password_needs_the_current_one_and_a_different_new_one()
    {
        var wrong = Rejected(ChangeOwnPasswordEndpoint.Decide(User(), new ChangeOwnPassword("not it at all", Password), false, Now), 400);
        Assert.Equal(["is not your current password"], wrong.Errors["currentPassword"]);
        var missing = Rejected(ChangeOwnPasswordEndpoint.Decide(User(), new ChangeOwnPassword(null, Password), false, Now), 400);
        Assert.Equal(["is required"], missing.Errors["currentPassword"]);
        var same = Rejected(ChangeOwnPasswordEndpoint.Decide(User(), new ChangeOwnPassword(Password, Password), true, Now), 400);
        Assert.Equal(["must differ from the current password"], same.Errors["newPassword"]);
    }

    [Fact]
    public void setting_up_the_second_factor_keeps_the_key_pending_and_shows_it_once()
    {
        var key = new byte[20];
        var saved = SavedAccount(SetUpTwoFactorEndpoint.Decide(User(), new SetUpTwoFactor(key, "protected")));
        Assert.Equal("protected", saved.Document.PendingTotpSecret);
        Assert.Null(saved.Document.TotpSecret);
        var setup = Assert.IsType<TwoFactorSetup>(saved.Answer);
        Assert.Equal(new string('A', 32), setup.Secret);
        Assert.StartsWith("otpauth://totp/", setup.OtpAuthUri);

        var on = Rejected(SetUpTwoFactorEndpoint.Decide(User(u => u.TotpSecret = "key"), new SetUpTwoFactor(key, "protected")), 409);
        Assert.Equal("the second factor is on already: turn it off first to use another key", on.Detail);
    }

    [Fact]
    public void confirming_the_second_factor_turns_the_pending_key_on_at_the_step_of_the_code()
    {
        var saved = SavedAccount(ConfirmTwoFactorEndpoint.Decide(User(u => u.PendingTotpSecret = "pending"), new ConfirmTwoFactor("123456"), 4242, true, Now));
        Assert.Equal(("pending", (string?)null, 4242L, (DateTimeOffset?)Now), (saved.Document.TotpSecret, saved.Document.PendingTotpSecret, saved.Document.LastTotpStep, saved.Document.ChangedAt));
        Assert.Equal(new TwoFactorStatus(true, true, false), saved.Answer);
    }

    [Fact]
    public void confirming_needs_a_code_a_pending_key_and_its_current_code()
    {
        Assert.Equal(["is required"], Rejected(ConfirmTwoFactorEndpoint.Decide(User(), new ConfirmTwoFactor(" "), null, false, Now), 400).Errors["code"]);
        Assert.Equal(["start with POST /api/account/two-factor/setup"], Rejected(ConfirmTwoFactorEndpoint.Decide(User(), new ConfirmTwoFactor("123456"), null, false, Now), 422).Errors["code"]);
        Assert.Equal(["the second factor is on already"],
            Rejected(ConfirmTwoFactorEndpoint.Decide(User(u => u.TotpSecret = "key"), new ConfirmTwoFactor("123456"), null, false, Now), 422).Errors["code"]);
        Assert.Equal(["is not the current code of the key shown at setup (6 digits; check the device's clock)"],
            Rejected(ConfirmTwoFactorEndpoint.Decide(User(u => u.PendingTotpSecret = "pending"), new ConfirmTwoFactor("000000"), null, false, Now), 422).Errors["code"]);
    }

    [Fact]
    public void turning_off_the_second_factor_needs_the_password_and_a_role_that_does_not_require_it()
    {
        var on = User(u => { u.TotpSecret = "key"; u.PendingTotpSecret = "other"; });
        var saved = SavedAccount(TurnOffTwoFactorEndpoint.Decide(on, new TurnOffTwoFactor(Password), true, false, Now));
        Assert.Equal(((string?)null, (string?)null, (DateTimeOffset?)Now), (saved.Document.TotpSecret, saved.Document.PendingTotpSecret, saved.Document.ChangedAt));
        Assert.Equal(new TwoFactorStatus(false, false, false), saved.Answer);
        Assert.Equal("key", on.TotpSecret);

        Assert.Equal(["is not your current password"], Rejected(TurnOffTwoFactorEndpoint.Decide(on, new TurnOffTwoFactor("wrong one"), false, false, Now), 400).Errors["password"]);
        Assert.Equal(["your role requires the second factor: it stays on"],
            Rejected(TurnOffTwoFactorEndpoint.Decide(on, new TurnOffTwoFactor(Password), true, true, Now), 422).Errors["password"]);
        Assert.IsType<Outcome.Replayed>(TurnOffTwoFactorEndpoint.Decide(User(), new TurnOffTwoFactor(Password), true, false, Now));
    }

    [Fact]
    public void a_new_account_is_created_at_its_address_with_the_password_named_for_the_handler()
    {
        var command = new CreateUser(null, " new@clinic.test ", " New Person ", [Roles.Administrator, Roles.BillingAdmin], null, Password);
        var newId = Guid.NewGuid();
        var outcome = CreateUserEndpoint.Decide(new CreateUserFacts(null, false, false, false), command, newId, Now);

        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(($"/api/users/{newId}", 201), (accepted.Location, accepted.Status));
        var saved = SavedAccount(outcome);
        Assert.Equal(("new@clinic.test", "New Person", Now, Password), (saved.Document.Email, saved.Document.DisplayName, saved.Document.CreatedAt, saved.NewPassword));
        Assert.Equal([Roles.BillingAdmin, Roles.Administrator], saved.Document.Roles.Where(r => r is Roles.BillingAdmin or Roles.Administrator));
        Assert.Equal(newId, Assert.IsType<UserView>(saved.Answer).Id);
    }

    [Fact]
    public void creating_an_account_again_is_a_replay_and_otherwise_a_conflict_or_a_refusal()
    {
        var existing = User();
        var again = new CreateUser(existing.Id, "ana@clinic.test", "Ana", [Roles.BillingAdmin], null, Password);
        Assert.Equal(existing.Id, Assert.IsType<UserView>(Assert.IsType<Outcome.Replayed>(
            CreateUserEndpoint.Decide(new CreateUserFacts(existing, true, false, false), again, Guid.NewGuid(), Now)).Answer).Id);
        Assert.Equal($"userId: account {existing.Id} exists with other details",
            Rejected(CreateUserEndpoint.Decide(new CreateUserFacts(existing, false, false, false), again, Guid.NewGuid(), Now), 409).Detail);
        Assert.Equal("email: an account with this email exists already",
            Rejected(CreateUserEndpoint.Decide(new CreateUserFacts(null, false, true, false), again with { UserId = null }, Guid.NewGuid(), Now), 409).Detail);
        var employerId = Guid.NewGuid();
        var employer = new CreateUser(null, "hr@acme.test", "HR", [Roles.Employer], employerId, Password);
        Assert.Equal([$"employer {employerId} does not exist"],
            Rejected(CreateUserEndpoint.Decide(new CreateUserFacts(null, false, false, false), employer, Guid.NewGuid(), Now), 422).Errors["employerId"]);
    }

    [Fact]
    public void disabling_an_account_gives_it_a_new_stamp_but_never_ones_own()
    {
        var user = User();
        var saved = SavedAccount(DisableUserEndpoint.Decide(user, new DisableUser(user.Id, AdminId), "NEW", Now));
        Assert.Equal((true, "NEW", (DateTimeOffset?)Now), (saved.Document.Disabled, saved.Document.SecurityStamp, saved.Document.ChangedAt));
        Assert.True(Assert.IsType<UserView>(saved.Answer).Disabled);
        Assert.False(user.Disabled);

        Assert.Equal(["you cannot disable your own account"], Rejected(DisableUserEndpoint.Decide(user, new DisableUser(user.Id, user.Id), "NEW", Now), 422).Errors["userId"]);
        Assert.IsType<Outcome.Replayed>(DisableUserEndpoint.Decide(User(u => u.Disabled = true), new DisableUser(user.Id, AdminId), "NEW", Now));
    }

    [Fact]
    public void enabling_an_account_keeps_its_stamp_and_an_enabled_one_is_a_replay()
    {
        var saved = SavedAccount(EnableUserEndpoint.Decide(User(u => u.Disabled = true), new EnableUser(Guid.NewGuid()), Now));
        Assert.Equal((false, "OLD", (DateTimeOffset?)Now), (saved.Document.Disabled, saved.Document.SecurityStamp, saved.Document.ChangedAt));
        Assert.IsType<Outcome.Replayed>(EnableUserEndpoint.Decide(User(), new EnableUser(Guid.NewGuid()), Now));
    }

    [Fact]
    public void resetting_a_password_names_the_new_one_when_it_keeps_the_rules()
    {
        var saved = SavedAccount(ResetPasswordEndpoint.Decide(User(), new ResetPassword(Password), Now));
        Assert.Equal((Password, (DateTimeOffset?)Now), (saved.NewPassword, saved.Document.ChangedAt));
        Assert.True(Rejected(ResetPasswordEndpoint.Decide(User(), new ResetPassword("short"), Now), 400).Errors.ContainsKey("newPassword"));
    }

    [Fact]
    public void changing_roles_gives_a_new_stamp_and_keeps_the_administrators_own_role()
    {
        var user = User();
        var saved = SavedAccount(ChangeRolesEndpoint.Decide(user, new ChangeRoles([Roles.Finance], null), AdminId, false, "NEW", Now));
        Assert.Equal([Roles.Finance], saved.Document.Roles);
        Assert.Equal("NEW", saved.Document.SecurityStamp);
        Assert.Equal([Roles.BillingAdmin], user.Roles);

        Assert.IsType<Outcome.Replayed>(ChangeRolesEndpoint.Decide(user, new ChangeRoles([Roles.BillingAdmin], null), AdminId, false, "NEW", Now));
        var admin = User(u => u.Roles = [Roles.Administrator]);
        Assert.Equal(["you cannot take the Administrator role from your own account"],
            Rejected(ChangeRolesEndpoint.Decide(admin, new ChangeRoles([Roles.Finance], null), admin.Id, false, "NEW", Now), 422).Errors["roles"]);
        Assert.True(Rejected(ChangeRolesEndpoint.Decide(user, new ChangeRoles([], null), AdminId, false, "NEW", Now), 400).Errors.ContainsKey("roles"));
        var employerId = Guid.NewGuid();
        Assert.Equal([$"employer {employerId} does not exist"],
            Rejected(ChangeRolesEndpoint.Decide(user, new ChangeRoles([Roles.Employer], employerId), AdminId, false, "NEW", Now), 422).Errors["employerId"]);
    }

    [Fact]
    public void resetting_the_second_factor_drops_the_keys_with_a_new_stamp()
    {
        var saved = SavedAccount(ResetTwoFactorEndpoint.Decide(User(u => u.TotpSecret = "key"), new ResetTwoFactor(Guid.NewGuid()), "NEW", Now));
        Assert.Equal(((string?)null, "NEW"), (saved.Document.TotpSecret, saved.Document.SecurityStamp));
        Assert.IsType<Outcome.Replayed>(ResetTwoFactorEndpoint.Decide(User(), new ResetTwoFactor(Guid.NewGuid()), "NEW", Now));
    }

    [Fact]
    public void the_second_factor_policy_names_the_roles_in_their_order_with_who_and_when()
    {
        var outcome = SetTwoFactorPolicyEndpoint.Decide(new SetTwoFactorPolicy([" Administrator", Roles.BillingAdmin, Roles.BillingAdmin]), AdminId, Now);
        var saved = Assert.IsType<Saved<TwoFactorPolicy>>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal([Roles.BillingAdmin, Roles.Administrator], saved.Document.RequiredRoles.Where(r => r is Roles.BillingAdmin or Roles.Administrator));
        Assert.Equal(2, saved.Document.RequiredRoles.Count);
        Assert.Equal((AdminId, (DateTimeOffset?)Now), (saved.Document.ChangedBy, saved.Document.ChangedAt));
        Assert.Equal(saved.Document.RequiredRoles, Assert.IsType<TwoFactorPolicyView>(saved.Answer).RequiredRoles);
    }
}
