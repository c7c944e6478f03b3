//! Errors of domain operations. Display texts name cases, statuses and configuration entries,
//! never member data, so they are safe to log.

use super::model::CaseStatus;
use super::repository::RepositoryError;
use super::rules::IntakeError;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// Another writer changed the case first (e.g. two reviewers deciding at once).
    #[error("case {case_id} was changed by someone else; reload it and decide again")]
    Conflict { case_id: String },
    #[error("case {0} not found")]
    CaseNotFound(String),
    #[error("case {case_id} is {status:?}: cannot {action}")]
    InvalidState { case_id: String, status: CaseStatus, action: &'static str },
    #[error("partial approval is not allowed for this program ({config_path})")]
    PartialApprovalNotAllowed { config_path: String },
    #[error("invalid decision: {0}")]
    InvalidDecision(String),
    #[error("case {case_id} already has the most documents allowed ({config_path})")]
    TooManyDocuments { case_id: String, config_path: String },
    #[error("regimen {0} is not one of the candidates of this case")]
    NotACandidate(String),
    #[error("program {program} of plan {plan} has no terms for this line of business")]
    MissingTerms { plan: String, program: String },
    #[error(transparent)]
    Repository(RepositoryError),
}

impl From<RepositoryError> for DomainError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Conflict { case_id, .. } => DomainError::Conflict { case_id },
            other => DomainError::Repository(other),
        }
    }
}

impl From<IntakeError> for DomainError {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::MissingTerms { plan, program } => DomainError::MissingTerms { plan, program },
            IntakeError::Rejected(rejection) => DomainError::InvalidDecision(rejection.to_string()),
        }
    }
}
