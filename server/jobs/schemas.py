from __future__ import annotations

from marshmallow import Schema, fields


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "任务种类（export 导出、print 打印）"})
    title = fields.String()
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    state_name = fields.String()
    done = fields.Integer(metadata={"description": "已处理的行（户、页）数"})
    total = fields.Integer(allow_none=True, metadata={"description": "共计（未知时为空）"})
    percent = fields.Integer(allow_none=True)
    result_name = fields.String(allow_none=True, metadata={"description": "完成后的文件名"})
    result_size = fields.Integer(allow_none=True)
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    file_url = fields.Method("_file_url", allow_none=True)

    def _file_url(self, job) -> str | None:
        return f"/api/v1/jobs/{job.id}/file" if job.state == "done" else None
