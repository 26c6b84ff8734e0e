using KetamineBilling.Features.Clearinghouse;
using KetamineBilling.Features.Eligibility;
using JasperFx;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Collections;
using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Search;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;

var builder = WebApplication.CreateBuilder(args);

builder.AddLogging();
builder.AddPersistence();
builder.AddMessaging();
builder.AddAuth();
builder.AddAccounts();
builder.AddApi();
builder.AddHealth();

builder.AddProviders();
builder.AddPayers();
builder.AddPatients();
builder.AddFees();
builder.AddLocations();
builder.AddClinic();
builder.AddPriorAuthorizations();
builder.AddClaims();
builder.AddRemittances();
builder.AddClearinghouse();
builder.AddEligibility();
builder.AddEmployers();
builder.AddGrants();
builder.AddStudies();
builder.AddReconciliation();
builder.AddPatientBilling();
builder.AddCollections();
builder.AddGeneralLedger();
builder.AddSearch();
builder.AddAnalytics();
builder.AddAccessAudit();
builder.AddMaintenance();
builder.AddDemoData();
builder.AddUi();

var app = builder.Build();

app.UseApiPipeline();
app.UseTwoFactorEnrolmentGate();
app.MapHealth();
app.MapApiDocs();
app.MapSignIn();
app.MapPaymentPages();
app.MapProcessorWebhooks();
app.MapApi();
app.MapUi();

return await app.RunJasperFxCommands(args);

public partial class Program;
