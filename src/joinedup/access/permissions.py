"""The capabilities the access layer itself checks: reading and writing records, break-glass, the IG console,
a resident's own record and access log, accounts, secondary use and the directory (decision 0315)."""

from __future__ import annotations

from .capabilities import declare

CAPABILITIES = declare(
    "access",
    {
        "record.read.clinical": "read the records of people the professional has a care relationship with",
        "record.read.social-care": "read social care records of people the professional has a relationship with",
        "record.read.unrestricted": "read every record the token's scopes allow (system clients, loading)",
        "record.write.clinical": "write clinical records about people with a care relationship",
        "record.write.social-care": "write social care records about people with a care relationship",
        "care-plan.write": "write care planning resources (CarePlan, CareTeam, Goal, Task, ServiceRequest, …)",
        "break-glass": "open a record without a care relationship in an emergency, with a reason, reviewed later",
        "break-glass.review": "review emergency (break-glass) access",
        "audit.review": "read the audit trail and the unusual-access report",
        "subject-access.assemble": "assemble a person's subject access request",
        "own-record.read": "read one's own record (residents)",
        "own-access-log.read": "see who has looked at one's own record (residents)",
        "accounts.manage": "create and change local accounts",
        "secondary-use.read": "read pseudonymised records for planning and population health (analysts)",
        "directory.read": "read the directory of organisations, services and staff roles",
        "directory.write": "change the directory",
    },
)

RECORD_READ_CLINICAL = CAPABILITIES["record.read.clinical"]
RECORD_READ_UNRESTRICTED = CAPABILITIES["record.read.unrestricted"]
RECORD_WRITE_CLINICAL = CAPABILITIES["record.write.clinical"]
RECORD_WRITE_SOCIAL_CARE = CAPABILITIES["record.write.social-care"]
CARE_PLAN_WRITE = CAPABILITIES["care-plan.write"]
BREAK_GLASS = CAPABILITIES["break-glass"]
BREAK_GLASS_REVIEW = CAPABILITIES["break-glass.review"]
AUDIT_REVIEW = CAPABILITIES["audit.review"]
SUBJECT_ACCESS_ASSEMBLE = CAPABILITIES["subject-access.assemble"]
OWN_RECORD_READ = CAPABILITIES["own-record.read"]
OWN_ACCESS_LOG_READ = CAPABILITIES["own-access-log.read"]
ACCOUNTS_MANAGE = CAPABILITIES["accounts.manage"]
SECONDARY_USE_READ = CAPABILITIES["secondary-use.read"]
DIRECTORY_WRITE = CAPABILITIES["directory.write"]
