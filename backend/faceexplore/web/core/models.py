"""The web API's shapes: request models (validated by flask-openapi3 before a view runs) and
response models (what the views serialise). /api/openapi.json is generated from them, so the
document and the answers cannot drift apart. Class names are the document's schema names."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticUseDefault
from werkzeug.datastructures import FileStorage

MAX_SAMPLES = 10  # sample photos in one search
MAX_UPLOAD_FILES = 500  # photos in one organiser upload (Werkzeug's form limit is 1000 parts)
MAX_DOWNLOAD = 1000  # photos in one zip
MAX_LINKED = 100_000  # photos in one request for download links
LINK_PART = 500  # photos in the zip of one download link (keeps the link short enough for any server)
LINK_MAX_AGE_S = 3600
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 48
MAX_PAGE = 1_000_000

ERROR_CODES = (
    "bad_request, bad_page, no_file, too_many_files, bad_face_choice, bad_false_alarm_rate, not_an_image, too_large_image, no_face, "
    "no_photos, bad_photo_ids, unknown_photo, too_many_photos, bad_link, expired_link, too_large, too_many_parts, not_found, "
    "method_not_allowed, unsupported_media_type, not_indexed, model_mismatch, server_error, bad_host, disk_full, login_required, "
    "wrong_password, no_password, rate_limited, csrf_failed, link_required, link_expired, not_in_results, nothing_to_undo, "
    "bad_correction, invalid_token, expired_token, uploads_off, gallery_read_only, bad_file_name, access_required, wrong_code, "
    "search_closed, bad_removal_state"
)


# -- responses ---------------------------------------------------------------------------------
class ResponseModel(BaseModel):
    # every field is always sent: the document lists them all as required (nullable ones too)
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


Box = Annotated[list[float], Field(min_length=4, max_length=4, description="[x1, y1, x2, y2] in the photo's pixels")]
Probability = Annotated[float, Field(ge=0, le=1)]


class ErrorDetail(ResponseModel):
    code: str = Field(description=f"snake_case, one of: {ERROR_CODES}")
    message: str = Field(description="a plain sentence for a person")


class Error(ResponseModel):
    """Every error the API answers with."""

    error: ErrorDetail


class Photo(ResponseModel):
    id: int
    path: str = Field(description="relative to the gallery, '/'-separated")
    url: str = Field(examples=["/gallery/group/bbt4.jpg"])
    thumbnail_url: str = Field(examples=["/cache/5f0c2a9e1d7b3c48/thumbnails/400/7.jpg"])
    placeholder_url: str = Field(examples=["/cache/5f0c2a9e1d7b3c48/thumbnails/32/7.jpg"])
    width: int | None
    height: int | None
    confidence: Probability | None = Field(description="how sure the search is that the person is in it; null outside a search")
    box: Box | None = Field(description="the person's face in the photo; null where no person is meant")


class Person(ResponseModel):
    """A person: a cluster of faces of the active clustering."""

    id: int
    name: str | None = Field(description="the name the organiser gave; null: none yet")
    hidden: bool = Field(description="hidden people are never shown to visitors, nor found by a search")
    face_count: int
    photo_count: int
    cover_url: str | None = Field(examples=["/cache/5f0c2a9e1d7b3c48/faces/160/12.jpg"])
    flags: list[str] = Field(description="quality warnings, e.g. may_be_two_people, may_be_split")


class Paginated(ResponseModel):
    page: int
    per_page: int
    total: int
    pages: int


class PeoplePage(Paginated):
    people: list[Person]


class PersonPage(Paginated):
    person: Person
    photos: list[Photo] = Field(description="the photos they are in, by path; box: their face")


class PhotoFace(ResponseModel):
    id: int
    box: Box
    probability: Probability
    person_id: int | None = Field(description="null: indexed after the last clustering")
    crop_url: str


class PhotoDetail(ResponseModel):
    photo: Photo
    faces: list[PhotoFace]


class SampleFace(ResponseModel):
    index: int
    box: Box
    probability: Probability


class Sample(ResponseModel):
    """What was found in one sample photo."""

    index: int
    filename: str
    width: int
    height: int
    faces: list[SampleFace]
    used_face: int | None = Field(description="the face the search used; null when the sample has none")
    error: ErrorDetail | None = Field(description="e.g. no_face; the other samples were still used")


class Rule(ResponseModel):
    name: str = Field(examples=["open-set"])
    threshold: float | None
    false_alarm_rate: float
    best_score: float | None
    text: str


class Candidate(ResponseModel):
    """A person the search came close to: the visitor may recognise themselves in the face."""

    token: str = Field(description="send it to POST /api/search/confirm if this is the visitor; valid for a short while")
    face_url: str = Field(description="the person's clearest face crop", examples=["/cache/faces/160/7.jpg"])


class SearchResponse(ResponseModel):
    found: bool
    confidence: Probability
    rule: Rule
    message: str
    person_id: int | None = Field(description="the person found, when they have a page (/api/people/{id}) this browser may open")
    samples: list[Sample]
    photos: list[Photo]
    download_token: str | None = Field(
        description="send it with POST /api/download: a visitor of a private gallery may download only these photos; "
        "null when there are none"
    )
    candidates: list[Candidate] = Field(
        description='when not found: people who came close, best first, for the visitor to recognise ("is one of these you?"); else empty'
    )
    also_you: list[Candidate] = Field(
        description="when found: people who are likely the same person split off (another cluster); else empty"
    )
    removal_token: str | None = Field(
        description='when found: send it to POST /api/removals to be taken out of the gallery ("Remove me"); else null'
    )
    save_token: str | None = Field(description='when found: send it to POST /api/saved to keep this search ("My photos"); else null')


class LiveState(ResponseModel):
    """What the live-gallery watcher (`faceexplore watch`) is doing. Visitors get ``watching``,
    ``adding`` and ``last_indexed_at`` only; the other fields are null for them."""

    watching: bool = Field(description="a watcher is running (it wrote its status within the last 30 s)")
    adding: int = Field(description="photos being added: seen but not searchable yet (waiting + indexing)")
    last_indexed_at: str | None = Field(json_schema_extra={"format": "date-time"}, description="when photos last became searchable")
    waiting: int | None = Field(description="photos seen but not indexed yet (still being copied, or queued)")
    indexing: int | None = Field(description="photos being analysed right now")
    last_change_at: str | None = Field(json_schema_extra={"format": "date-time"}, description="a photo last appeared, changed or went")
    reclustering: bool | None = Field(description="the people are being grouped again in the background")
    last_reclustered_at: str | None = Field(json_schema_extra={"format": "date-time"})
    updated_at: str | None = Field(json_schema_extra={"format": "date-time"}, description="the watcher's last report")
    recent_errors: int | None = Field(description="photos the watcher could not read since it started")
    message: str | None = Field(description="a problem the organiser should know of (e.g. the gallery folder is missing)")


class Status(ResponseModel):
    """What the index holds. Visitors get the counts; model, thresholds, last_indexed and errors
    are null for them (the organiser sees them)."""

    photos: int
    faces: int
    people: int
    model: str | None
    threshold: float | None
    threshold_method: str | None
    last_indexed: str | None = Field(json_schema_extra={"format": "date-time"})
    search_threshold: float | None
    false_alarm_rate: float
    indexed: bool = Field(description="false until the gallery has been indexed")
    errors: int | None = Field(description="photos that could not be read (null for visitors)")
    clustered: bool = Field(description="false until the faces have been grouped into people")
    live: LiveState | None = Field(
        description="the live gallery's watcher; null when none ever ran (for visitors also while none is running)"
    )
    uploads: bool | None = Field(description="the organiser may add photos (POST /api/gallery/photos); null for visitors")
    search_closed: bool = Field(description="the retention has passed and the biometric data was erased: the search is closed")


class DownloadLink(ResponseModel):
    url: str = Field(description="GET it (a plain link): the zip, saved by the browser")
    filename: str = Field(examples=["faceexplore-photos-part-1-of-3.zip"])
    photos: int


class DownloadLinks(ResponseModel):
    links: list[DownloadLink]
    expires_in: int = Field(description="seconds the links stay valid")


class SessionState(ResponseModel):
    organiser: bool = Field(description="this browser is logged in as the organiser")
    password_set: bool = Field(description="an organiser password has been set (faceexplore set-password)")
    csrf_token: str | None = Field(description="send it as X-CSRF-Token with every change; null unless organiser")
    people_page: Literal["organiser", "public"] = Field(
        description="who may open the people pages (setting people_page): a visitor's page shows no People tab with 'organiser'"
    )


class Face(ResponseModel):
    id: int
    photo_id: int
    crop_url: str
    box: Box


class PersonFaces(Paginated):
    faces: list[Face]


class Correction(ResponseModel):
    id: int
    at: str = Field(json_schema_extra={"format": "date-time"})
    kind: Literal["rename", "hide", "unhide", "merge", "move", "reject", "apart"]
    description: str
    undone: bool
    who: str = Field(description='"cli" or "organiser (web, <address>)"; "" for corrections made before it was recorded')
    undone_with: int | None = Field(default=None, description="the correction whose undo took this one back too")
    undoable: bool | None = Field(default=None, description="whether it can be undone now (in the list of corrections)")
    not_undoable_because: str | None = Field(default=None, description="why it cannot be undone (undone already, clustered again)")


class Corrections(ResponseModel):
    corrections: list[Correction] = Field(description="newest first")


class Undone(ResponseModel):
    undone: Correction
    also: list[Correction] = Field(description="the later corrections that depended on it, taken back too, newest first")


class UndoPlan(ResponseModel):
    correction: Correction
    also: list[Correction] = Field(description="the later corrections undoing it would take back too, newest first")


class Rejected(ResponseModel):
    rejected: int = Field(description="faces taken out of every person and of search")


class ReviewSide(ResponseModel):
    person: int | None = Field(description="the person these faces are, null for faces in no person")
    faces: list[int] = Field(description="the faces shown (those nearest the other side), face ids")
    crops: list[str] = Field(description="the faces' crop URLs, in the same order")


class SamePersonQuestion(ResponseModel):
    """Are ``a`` and ``b`` one person? yes: merged; no: kept apart (cannot-linked)."""

    id: str
    kind: Literal["same_person"]
    a: ReviewSide
    b: ReviewSide
    score: float = Field(description="the expected change an answer brings, in faces")


class FaceBelongsQuestion(ResponseModel):
    """Is this face one of ``person``'s? no: it moves out to a person of its own."""

    id: str
    kind: Literal["face_belongs"]
    face: int
    crop: str
    person: int
    person_faces: list[int] = Field(description="a few of the person's other faces, to compare with")
    person_crops: list[str]
    score: float = Field(description="the expected change an answer brings, in faces")


class NotAFaceQuestion(ResponseModel):
    """Is this not a face? yes: it leaves every person and search."""

    id: str
    kind: Literal["not_a_face"]
    face: int
    crop: str
    photo_id: int
    box: Box
    score: float = Field(description="the expected change an answer brings, in faces")


ReviewQuestion = Annotated[SamePersonQuestion | FaceBelongsQuestion | NotAFaceQuestion, Field(discriminator="kind")]


class ReviewQueue(ResponseModel):
    questions: list[ReviewQuestion] = Field(description="best first: the largest expected change for visitors")
    total: int = Field(description="questions in the queue")
    worth_answering: int = Field(description="questions whose answer is expected to change at least a tenth of a face")


class ReviewAnswered(ResponseModel):
    answered: str = Field(description="the question's id")
    answer: Literal["yes", "no", "skip"]
    worth_answering: int = Field(description="questions worth answering left")


class Health(ResponseModel):
    status: Literal["ok"]


class UploadedPhoto(ResponseModel):
    filename: str = Field(description="the name the file was sent with (its folder parts dropped)")
    path: str | None = Field(description="where it was saved, relative to the gallery ('/'-separated); null when refused")
    error: ErrorDetail | None = Field(description="why it was refused (not_an_image, too_large_image, bad_file_name); null when saved")


class UploadResult(ResponseModel):
    saved: int = Field(description="photos saved")
    refused: int = Field(description="files refused (each says why)")
    folder: str = Field(description="the gallery folder they were saved in", examples=["uploads/2026-12-02"])
    photos: list[UploadedPhoto] = Field(description="one per file sent, in order")


class RemovalAccepted(ResponseModel):
    status: Literal["active", "pending_review"] = Field(
        description="active: taken out; pending_review: hidden from visitors until the organiser confirms (setting removal)"
    )
    message: str


class Removal(ResponseModel):
    """A visitor's request to be taken out of the gallery (organiser's view: no photo, no face)."""

    id: int
    at: str = Field(json_schema_extra={"format": "date-time"})
    changed_at: str = Field(json_schema_extra={"format": "date-time"})
    status: Literal["active", "pending_review", "refused", "undone"] = Field(
        description="active and pending_review withhold the person from visitors; refused and undone do not"
    )
    description: str


class Removals(ResponseModel):
    removals: list[Removal] = Field(description="newest first")


class SavedLink(ResponseModel):
    id: str = Field(description="the link's secret: whoever has it opens the saved search")
    url: str = Field(examples=["/me/3q2-7wJ_Xx0aS1bY4u9lPA"])
    expires_at: str = Field(json_schema_extra={"format": "date-time"})


class SavedDeleted(ResponseModel):
    deleted: Literal[True]


class NewSince(ResponseModel):
    count: int = Field(description="photos found now that were not at the last visit")
    photo_ids: list[int]


class SavedSearchResponse(SearchResponse):
    """A saved search run again over the gallery as it is now."""

    new_since: NewSince
    last_visit_at: str = Field(json_schema_extra={"format": "date-time"}, description="the visit before this one")
    expires_at: str = Field(json_schema_extra={"format": "date-time"})


# -- requests ----------------------------------------------------------------------------------
class RequestModel(BaseModel):
    """A request part. A value that does not validate is answered 400 with the (code, message)
    ``invalid`` names for ``"field:pydantic error type"`` or ``"field"``, else ``fallback``."""

    invalid: ClassVar[dict[str, tuple[str, str]]] = {}
    fallback: ClassVar[tuple[str, str]] = ("bad_request", "The request could not be understood.")
    status: ClassVar[int] = 400

    @classmethod
    def error_for(cls, field: str, error_type: str) -> tuple[str, str]:
        return cls.invalid.get(f"{field}:{error_type}") or cls.invalid.get(field) or cls.fallback


def _blank_is_default(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PydanticUseDefault()
    return value


class PageQuery(RequestModel):
    page: Annotated[int, Field(ge=1, le=MAX_PAGE), BeforeValidator(_blank_is_default)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE), BeforeValidator(_blank_is_default)] = DEFAULT_PER_PAGE

    invalid: ClassVar = {
        "page": ("bad_page", f"page must be a whole number between 1 and {MAX_PAGE}."),
        "per_page": ("bad_page", f"per_page must be a whole number between 1 and {MAX_PER_PAGE}."),
    }
    fallback: ClassVar = ("bad_page", "page and per_page must be whole numbers.")


class PathModel(RequestModel):
    # an id in the path that does not validate names nothing here
    status: ClassVar[int] = 404
    fallback: ClassVar = ("not_found", "There is nothing at this address.")


class PeopleQuery(PageQuery):
    q: Annotated[str, Field(max_length=100)] | None = Field(default=None, description="only people whose name contains this")

    invalid: ClassVar = {**PageQuery.invalid, "q": ("bad_request", "q must be at most 100 characters.")}


class PersonPath(PathModel):
    person_id: int = Field(ge=0, description="a person id from /api/people or a search")


class CorrectionPath(PathModel):
    correction_id: int = Field(ge=0, description="a correction id from /api/corrections")


class PhotoPath(PathModel):
    photo_id: int = Field(ge=0, description="a photo id")


def _uploaded_file(value):
    if not isinstance(value, FileStorage):
        raise ValueError("not a file")
    return value


# flask-openapi3 reads a form field from request.files when its items' schema is exactly this
UploadedFile = Annotated[FileStorage, PlainValidator(_uploaded_file), WithJsonSchema({"format": "binary", "type": "string"})]


def _face_choice(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not a face number")
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError("not a face number")
        return int(value)
    return value


# a form field is text: a face's number, or empty for the largest face
FaceChoice = Annotated[
    Annotated[int, Field(ge=0)] | None,
    BeforeValidator(_face_choice),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "maxLength": 0}]}),
]


class UploadForm(RequestModel):
    """multipart/form-data: photos to add to the gallery (organiser). Each is checked on its own."""

    photos: list[UploadedFile] = Field(min_length=1, max_length=MAX_UPLOAD_FILES, description="the photos")

    invalid: ClassVar = {
        "photos:too_long": ("too_many_files", f"Send at most {MAX_UPLOAD_FILES} photos in one upload."),
        "photos": ("no_file", "Add at least one photo (form field 'photos')."),
    }


class SearchForm(RequestModel):
    """multipart/form-data: 1 to 10 sample photos of one person, analysed in memory, never stored."""

    images: list[UploadedFile] = Field(min_length=1, max_length=MAX_SAMPLES, description="the sample photos")
    faces: list[FaceChoice] = Field(
        default=[],
        description="none, or one per image in order: the number of the face to use, or '' for the largest",
    )
    # a form has no null: the field is left out for the server's setting
    false_alarm_rate: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=None,
        description="how often a stranger may be reported found (default and most: the server's setting)",
        json_schema_extra=lambda schema: schema.pop("default", None),
    )

    invalid: ClassVar = {
        "images:too_long": ("too_many_files", f"Use at most {MAX_SAMPLES} sample photos in one search."),
        "images": ("no_file", "Add at least one photo of the person (form field 'images')."),
        "faces": ("bad_face_choice", "A face choice must be the number of a face (0 or more), or empty for the largest face."),
        "false_alarm_rate": ("bad_false_alarm_rate", "false_alarm_rate must be a number between 0 and 1, such as 0.01."),
    }


def _whole_number(value: Any):
    """JSON Schema's integer: a whole number, 17.0 included (the same number in JSON); not true,
    "17" or 17.5. (Pydantic alone would take "17" and refuse 17.0.) Form fields arrive as text:
    download.py turns their digits into numbers first."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("not a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        return int(value)
    return value


Id = Annotated[int, Field(ge=0), BeforeValidator(_whole_number)]  # a photo's, person's or face's id


class ConfirmRequest(RequestModel):
    """A candidate the visitor recognised as themselves."""

    token: Annotated[str, Field(min_length=1, max_length=100_000)] = Field(description="a Candidate's token from a search")

    invalid: ClassVar = {"token": ("invalid_token", "Send the token of one of the search's candidates.")}
    fallback: ClassVar = ("invalid_token", 'Send {"token": "..."}, the token of one of the search\'s candidates.')


class ActionTokenRequest(RequestModel):
    """A found answer's removal_token or save_token."""

    token: Annotated[str, Field(min_length=1, max_length=100_000)] = Field(description="as the search answered it")

    invalid: ClassVar = {"token": ("invalid_token", "Send the token of your search's answer.")}
    fallback: ClassVar = ("invalid_token", 'Send {"token": "..."}, the token of your search\'s answer.')


class RemovalPath(PathModel):
    removal_id: int = Field(ge=0, description="a removal id from GET /api/removals")


class SavedPath(PathModel):
    saved_id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="the id of a saved search's link")


class DownloadRequest(RequestModel):
    """The photos to download: JSON, or a form with the field repeated."""

    photo_ids: list[Id] = Field(min_length=1, max_length=MAX_DOWNLOAD, description="photo ids; a repeated id is sent once")
    token: Annotated[str, Field(max_length=100_000)] | None = Field(
        default=None, description="a search's download_token: needed by visitors of a private gallery"
    )

    invalid: ClassVar = {
        "photo_ids:too_short": ("no_photos", "Choose at least one photo to download."),
        "photo_ids:too_long": ("too_many_photos", f"Download at most {MAX_DOWNLOAD} photos at once."),
        "photo_ids": ("bad_photo_ids", 'Photo ids must be whole numbers: send {"photo_ids": [1, 2, ...]}.'),
        "token": ("bad_request", "token must be a search's download_token, as it came (or null)."),
    }
    fallback: ClassVar = ("bad_photo_ids", 'Send {"photo_ids": [1, 2, ...]}, the ids of the photos to download.')


class DownloadLinksRequest(DownloadRequest):
    """The photos to download, as JSON: any number up to MAX_LINKED, split into zips of LINK_PART."""

    photo_ids: list[Id] = Field(min_length=1, max_length=MAX_LINKED, description="photo ids; a repeated id is sent once")

    invalid: ClassVar = {
        **DownloadRequest.invalid,
        "photo_ids:too_long": ("too_many_photos", f"Download at most {MAX_LINKED} photos at once."),
    }


class DownloadLinkQuery(RequestModel):
    token: str = Field(max_length=16_000, description="from /api/download/links")

    fallback: ClassVar = ("bad_link", "This download link is not valid. Start the download again from the page.")


class LoginRequest(RequestModel):
    password: str = Field(max_length=1024)

    invalid: ClassVar = {"password": ("bad_request", 'Send {"password": "..."}.')}


class PersonChange(RequestModel):
    """Only the fields sent change."""

    name: Annotated[str, Field(max_length=100)] | None = Field(default=None, description="null or '': no name")
    # true or false when sent (not null); None only when left out
    hidden: bool = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    invalid: ClassVar = {
        "name": ("bad_request", "name must be text of at most 100 characters, or null."),
        "hidden": ("bad_request", "hidden must be true or false."),
    }
    fallback: ClassVar = ("bad_request", 'Send {"name": "...", "hidden": true|false}, either or both.')


Ids = Annotated[list[Id], Field(min_length=1, max_length=10_000)]


class MergeRequest(RequestModel):
    people: Ids = Field(description="the people merged into this one")

    invalid: ClassVar = {"people": ("bad_request", 'Send {"people": [id, ...]}: the people to merge into this one.')}


class MoveRequest(RequestModel):
    faces: Ids
    to: Id | None = Field(description="the person to move them to; null: a new person")

    invalid: ClassVar = {
        "faces": ("bad_request", 'Send {"faces": [id, ...], "to": person id or null}.'),
        "to": ("bad_request", "to must be a person id, or null for a new person."),
    }


class RejectRequest(RequestModel):
    faces: Ids

    invalid: ClassVar = {"faces": ("bad_request", 'Send {"faces": [id, ...]}: the faces that are not faces.')}


class ReviewQuery(RequestModel):
    limit: Annotated[int, Field(ge=1, le=MAX_PER_PAGE), BeforeValidator(_blank_is_default)] = 20

    invalid: ClassVar = {"limit": ("bad_request", f"limit must be a whole number between 1 and {MAX_PER_PAGE}.")}


class ReviewPath(PathModel):
    question_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="a question id from /api/review")]


class ReviewAnswer(RequestModel):
    answer: Literal["yes", "no", "skip"]

    invalid: ClassVar = {"answer": ("bad_request", 'Send {"answer": "yes" | "no" | "skip"}.')}
    fallback: ClassVar = ("bad_request", 'Send {"answer": "yes" | "no" | "skip"}.')


REQUEST_MODELS: dict[str, type[RequestModel]] = {
    m.__name__: m
    for m in (
        PageQuery,
        PeopleQuery,
        PersonPath,
        PhotoPath,
        SearchForm,
        UploadForm,
        DownloadRequest,
        DownloadLinksRequest,
        DownloadLinkQuery,
        ConfirmRequest,
        LoginRequest,
        PersonChange,
        MergeRequest,
        MoveRequest,
        RejectRequest,
        ActionTokenRequest,
        RemovalPath,
        SavedPath,
        ReviewQuery,
        ReviewPath,
        ReviewAnswer,
    )
}
