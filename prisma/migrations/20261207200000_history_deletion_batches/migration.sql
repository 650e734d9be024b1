-- CreateTable
CREATE TABLE "HistoryDeletion" (
    "documentName" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "byUserId" TEXT,
    "byClientId" BIGINT,
    "data" BYTEA NOT NULL,
    "projectId" TEXT NOT NULL,

    CONSTRAINT "HistoryDeletion_pkey" PRIMARY KEY ("documentName","key")
);

-- CreateIndex
CREATE INDEX "HistoryDeletion_projectId_at_idx" ON "HistoryDeletion"("projectId", "at");

-- AddForeignKey
ALTER TABLE "HistoryDeletion" ADD CONSTRAINT "HistoryDeletion_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
