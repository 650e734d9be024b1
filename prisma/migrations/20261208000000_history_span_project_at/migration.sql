-- CreateIndex
CREATE INDEX "HistorySpan_projectId_at_idx" ON "HistorySpan"("projectId", "at");
